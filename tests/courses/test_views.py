"""Course pages: catalog, outline, lesson with previous/next; drafts stay hidden."""

import re

import pytest

from lms.courses import services
from tests.courses.builders import make_course


@pytest.fixture
def published(db, tmp_path):
    return services.import_course_folder(make_course(tmp_path), publish=True)


def test_catalog_page_lists_courses_and_topics(client, published):
    html = client.get("/courses").get_data(as_text=True)
    assert "A Tiny Course" in html and 'href="/courses/tiny-course"' in html
    assert 'href="/courses?topic=testing"' in html
    filtered = client.get("/courses?topic=nothing").get_data(as_text=True)
    assert "A Tiny Course" not in filtered


def test_course_page_shows_the_outline(client, published):
    html = client.get("/courses/tiny-course").get_data(as_text=True)
    for title in ("Basics", "Next steps", "Hello", "Check the basics", "More"):
        assert title in html
    assert "optional" in html  # the lesson marked required: false


def test_lesson_page_has_content_and_previous_next(client, published):
    html = client.get("/courses/tiny-course/lessons/world").get_data(as_text=True)
    assert "<h1>World</h1>" in html
    assert 'rel="prev" href="/courses/tiny-course/lessons/hello"' in html
    assert 'rel="next" href="/courses/tiny-course/lessons/check-basics"' in html
    assert 'class="language-python"' in html


def test_quiz_page_shows_questions_but_not_answers(client, published):
    html = client.get("/courses/tiny-course/lessons/check-basics").get_data(as_text=True)
    assert "Which is a <strong>license</strong>?" in html
    assert "MIT is a license" not in html  # explanations come after answering
    assert len(re.findall(r'type="radio"', html)) == 2


def test_draft_pages_are_404_for_learners(user_client, db, tmp_path):
    services.import_course_folder(make_course(tmp_path, slug="secret-draft"))
    assert user_client.get("/courses/secret-draft").status_code == 404
    assert user_client.get("/courses/secret-draft/lessons/hello").status_code == 404
    assert "secret-draft" not in user_client.get("/courses").get_data(as_text=True)


def test_unknown_lesson_page_is_404(client, published):
    response = client.get("/courses/tiny-course/lessons/missing")
    assert response.status_code == 404
    assert "No such lesson in this course." in response.get_data(as_text=True)
