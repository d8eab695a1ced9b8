"""The course format: a valid course loads; every problem is reported with file and line."""

from pathlib import Path

import pytest

from lms.courses.loader import CourseFormatError, load_course
from tests.courses.builders import make_course, write

CONTENT = Path(__file__).parents[2] / "content"


def problems_of(folder) -> list[str]:
    with pytest.raises(CourseFormatError) as excinfo:
        load_course(folder)
    return [str(p) for p in excinfo.value.problems]


def test_a_valid_course_loads_in_order_with_links_rewritten(tmp_path):
    spec = load_course(make_course(tmp_path))
    assert spec.slug == "tiny-course" and spec.version == "1.0.0"
    assert [m.slug for m in spec.modules] == ["basics", "next"]
    assert [lesson.slug for lesson in spec.lessons] == ["hello", "world", "check-basics", "more"]
    hello = spec.lessons[0]
    assert 'href="/courses/tiny-course/lessons/world#start"' in hello.body_html
    assert 'src="/courses/tiny-course/assets/' in hello.body_html
    assert spec.lessons[1].is_required is False
    quiz = spec.lessons[2]
    assert quiz.kind == "quiz" and quiz.max_attempts == 3 and quiz.pass_mark == 70
    assert quiz.questions[1].answer == ["a", "b"]
    assert "<strong>license</strong>" in quiz.questions[0].prompt_html
    assert len(spec.assets) == 1


@pytest.mark.parametrize("slug", ["open-source-foundations", "responsible-genai-research-software"])
def test_launch_courses_are_valid_and_substantial(slug):
    spec = load_course(CONTENT / slug)
    assert len(spec.modules) >= 5
    for module in spec.modules:
        lessons = [item for item in module.lessons if item.kind == "lesson"]
        quizzes = [item for item in module.lessons if item.kind == "quiz"]
        assert 2 <= len(lessons) <= 4, module.slug
        assert quizzes and all(len(q.questions) >= 4 for q in quizzes), module.slug
        assert all(q.explanation_html for quiz in quizzes for q in quiz.questions)
    folder = CONTENT / slug
    for lesson in spec.lessons:
        if lesson.kind == "lesson":
            text = (folder / lesson.source_path).read_text().split("---", 2)[2]
            assert len(text.split()) >= 300, lesson.source_path


def test_content_hash_ignores_timestamps_but_not_content(tmp_path):
    import os

    folder = make_course(tmp_path)
    first = load_course(folder).content_hash
    os.utime(folder / "course.yaml", (0, 0))
    assert load_course(folder).content_hash == first
    lesson = folder / "01-basics" / "02-world.md"
    lesson.write_text(lesson.read_text() + "\nOne more line.\n")
    assert load_course(folder).content_hash != first


def test_bad_yaml_points_at_the_line(tmp_path):
    folder = make_course(tmp_path)
    write(folder / "01-basics" / "module.yaml", "title: Basics\nsummary: [unclosed\n")
    problems = problems_of(folder)
    assert any(p.startswith("01-basics/module.yaml:") and "invalid YAML" in p for p in problems)


def test_missing_and_unknown_keys_with_lines(tmp_path):
    folder = make_course(tmp_path)
    write(
        folder / "course.yaml",
        """
        slug: tiny-course
        title: A Tiny Course
        version: "1.0.0"
        topics: [testing]
        pass_mark: 70
        colour: blue
        """,
    )
    problems = problems_of(folder)
    assert "course.yaml:1: missing key 'summary'" in problems
    assert "course.yaml:6: unknown key 'colour'" in problems


def test_every_problem_is_reported_at_once(tmp_path):
    folder = make_course(tmp_path)
    write(folder / "01-basics" / "module.yaml", "summary: no title\n")
    write(
        folder / "02-next" / "01-more.md",
        "---\ntitle: More\nminutes: lots\n---\n\nSee [nothing](05-nowhere.md).\n",
    )
    problems = problems_of(folder)
    assert "01-basics/module.yaml:1: missing key 'title'" in problems
    assert "02-next/01-more.md:3: 'minutes' must be a whole number from 1 to 600" in problems
    assert "02-next/01-more.md:6: link to a lesson that does not exist: 05-nowhere.md" in problems


def test_duplicate_slugs_across_modules(tmp_path):
    folder = make_course(tmp_path)
    write(folder / "02-next" / "02-hello.md", "---\ntitle: Again\nminutes: 1\n---\n\nText.\n")
    problems = problems_of(folder)
    assert any("02-next/02-hello.md" in p and "slug 'hello' is also used" in p for p in problems)


def test_quiz_without_a_correct_answer(tmp_path):
    folder = make_course(tmp_path)
    quiz = folder / "01-basics" / "03-check-basics.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: a\n", "    answer: []\n"))
    problems = problems_of(folder)
    assert "01-basics/03-check-basics.yaml:12: the question has no correct answer" in problems


def test_quiz_answer_that_is_not_a_choice(tmp_path):
    folder = make_course(tmp_path)
    quiz = folder / "01-basics" / "03-check-basics.yaml"
    quiz.write_text(quiz.read_text().replace("answer: [a, b]", "answer: [a, z]"))
    problems = problems_of(folder)
    assert "01-basics/03-check-basics.yaml:24: the answer 'z' is not one of the choices" in problems


def test_single_choice_question_with_two_answers(tmp_path):
    folder = make_course(tmp_path)
    quiz = folder / "01-basics" / "03-check-basics.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: a\n", "    answer: [a, b]\n"))
    assert any("exactly one answer" in p for p in problems_of(folder))


def test_missing_image(tmp_path):
    folder = make_course(tmp_path)
    (folder / "01-basics" / "img" / "dot.png").unlink()
    problems = problems_of(folder)
    assert "01-basics/01-hello.md:8: the file '01-basics/img/dot.png' is missing" in problems


def test_links_may_not_leave_the_course(tmp_path):
    folder = make_course(tmp_path)
    write(
        folder / "02-next" / "01-more.md",
        "---\ntitle: More\nminutes: 3\n---\n\n![x](../../../etc/passwd.png) [y](/etc/hosts)\n",
    )
    problems = problems_of(folder)
    assert any("is missing or not a supported image" in p for p in problems)
    assert any("use a relative path or an http(s) URL" in p for p in problems)


def test_version_must_be_quoted_text(tmp_path):
    folder = make_course(tmp_path)
    path = folder / "course.yaml"
    path.write_text(path.read_text().replace('version: "1.0.0"', "version: 1.0"))
    assert "course.yaml:3: 'version' must be text in quotes, e.g. \"1.0.0\"" in problems_of(folder)


def test_no_course_yaml(tmp_path):
    assert problems_of(tmp_path) == ["course.yaml: missing: a course folder needs a course.yaml"]


def test_empty_files_and_empty_values_are_reported(tmp_path):
    folder = make_course(tmp_path)
    write(folder / "02-next" / "module.yaml", "")
    path = folder / "course.yaml"
    path.write_text(path.read_text().replace("title: A Tiny Course", "title:"))
    problems = problems_of(folder)
    assert "02-next/module.yaml:1: the file is empty" in problems
    assert "course.yaml:2: 'title' must be non-empty text" in problems


def test_yes_no_choice_text_must_be_quoted(tmp_path):
    folder = make_course(tmp_path)
    quiz = folder / "01-basics" / "03-check-basics.yaml"
    quiz.write_text(quiz.read_text().replace("text: MIT", "text: Yes"))
    assert any("reads as yes/no" in p for p in problems_of(folder))


def test_numeric_choice_ids_work_as_answers(tmp_path):
    folder = make_course(tmp_path)
    quiz = folder / "01-basics" / "03-check-basics.yaml"
    text = quiz.read_text().replace("- id: a\n        text: MIT", "- id: 1\n        text: MIT")
    quiz.write_text(text.replace("    answer: a\n", "    answer: 1\n"))
    spec = load_course(folder)
    assert spec.lessons[2].questions[0].answer == ["1"]


def test_a_linked_folder_cannot_pull_in_files_from_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"\x89PNG not yours")
    folder = make_course(tmp_path / "c")
    (folder / "01-basics" / "linked").symlink_to(outside)
    write(
        folder / "02-next" / "01-more.md",
        "---\ntitle: More\nminutes: 3\n---\n\n![x](../01-basics/linked/secret.png)\n",
    )
    problems = problems_of(folder)
    assert "02-next/01-more.md:6: the file '01-basics/linked/secret.png' is missing" in problems


def test_headings_get_ids_for_links_to_sections(tmp_path):
    spec = load_course(make_course(tmp_path))
    assert '<h2 id="start">Start</h2>' in spec.lessons[1].body_html


@pytest.mark.parametrize("field", ["topics", "question id", "choice id"])
def test_a_slug_with_a_final_newline_is_refused(tmp_path, field):
    # One slug rule (lms.core.patterns): the whole value must match; "$" alone let "x\n" in.
    folder = make_course(tmp_path)
    if field == "topics":
        course = folder / "course.yaml"
        course.write_text(course.read_text().replace("[testing, open-source]", '["testing\\n"]'))
        expected = "'topics' must be a list of slugs"
    else:
        quiz = folder / "01-basics" / "03-check-basics.yaml"
        text = quiz.read_text()
        if field == "question id":
            quiz.write_text(text.replace("id: q1", 'id: "q1\\n"', 1))
            expected = "question 'id' must be a slug"
        else:
            quiz.write_text(text.replace("id: a\n", 'id: "a\\n"\n', 1))
            expected = "choice 'id' must be a short slug"
    assert any(expected in p for p in problems_of(folder))
