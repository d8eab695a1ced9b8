"""The course folder: course.yaml, the numbered module folders with their module.yaml, the
lesson files (front matter and Markdown), and the rule that slugs are unique in a course."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.core.patterns import is_slug
from lms.courses.loader.content_hash import content_hash
from lms.courses.loader.links import LessonLinks
from lms.courses.loader.quizzes import QuizReader
from lms.courses.loader.specs import CourseSpec, LessonSpec, ModuleSpec

NUMBERED = re.compile(r"^(\d+)-(.+)$")


@dataclass
class _PendingModule:
    slug: str
    title: str
    summary: str
    lessons: list[LessonSpec] = field(default_factory=list)
    pending: list = field(default_factory=list)


class CourseReader(QuizReader, LessonLinks):
    """Reads one course folder; ``load`` returns the spec, or None with ``problems`` set."""

    def load(self) -> CourseSpec | None:
        course_file = self.root / "course.yaml"
        if not course_file.is_file():
            self.problem("course.yaml", None, "missing: a course folder needs a course.yaml")
            return None
        meta = self.load_yaml_file(course_file)
        if meta is None:
            return None
        path = "course.yaml"
        self.check_keys(
            meta,
            path,
            {"slug", "title", "version", "summary", "topics", "pass_mark"},
            {"estimated_hours"},
        )
        slug = self.text(meta, "slug", path, max_length=100)
        if slug and not is_slug(slug):
            self.problem(
                path, meta.line_of("slug"), f"slug '{slug}' must be lowercase-with-hyphens"
            )
        self.text(meta, "title", path)  # report an empty title now, not at the database
        self.course_slug = slug or "course"
        version = meta.get("version")
        if not isinstance(version, str) or not version.strip() or len(version) > 50:
            self.problem(
                path, meta.line_of("version"), "'version' must be text in quotes, e.g. \"1.0.0\""
            )
        topics = meta.get("topics", [])
        if not isinstance(topics, list) or not all(is_slug(t) and len(t) <= 60 for t in topics):
            self.problem(path, meta.line_of("topics"), "'topics' must be a list of slugs")
            topics = []
        pass_mark = self.number(meta, "pass_mark", path, low=0, high=100, default=70)

        modules = self.load_modules(pass_mark)
        self.check_unique_slugs(modules)
        lesson_index = self.lesson_index(modules)
        for module in modules:
            for lesson, body, first_line in module.pending:
                lesson.body_html = self.render_lesson(lesson, body, first_line, lesson_index)
        if self.problems:
            return None
        return CourseSpec(
            slug=slug,
            title=self.text(meta, "title", path),
            version=version.strip(),
            summary=self.text(meta, "summary", path, max_length=None),
            topics=list(topics),
            estimated_hours=float(
                self.number(meta, "estimated_hours", path, low=0, high=1000, integer=False)
                or round(sum(lesson.minutes for m in modules for lesson in m.lessons) / 60, 1)
            ),
            pass_mark=pass_mark,
            modules=[ModuleSpec(m.slug, m.title, m.summary, m.lessons) for m in modules],
            assets=self.assets,
            content_hash=content_hash(self.hashed),
            version_line=meta.line_of("version"),
        )

    def numbered(self, entries: list[Path], what: str) -> list[tuple[int, str, Path]]:
        """(number, slug, path) for numbered entries, in order; problems for bad names."""
        items = []
        seen: dict[int, str] = {}
        for entry in entries:
            match = NUMBERED.match(entry.stem if entry.is_file() else entry.name)
            if not match:
                continue
            number, slug = int(match.group(1)), match.group(2)
            rel = self.rel(entry)
            if not is_slug(slug) or len(slug) > 100:
                self.problem(rel, None, f"{what} name '{slug}' must be lowercase-with-hyphens")
                continue
            if number in seen:
                self.problem(
                    rel, None, f"{what} number {number:02d} is also used by {seen[number]}"
                )
                continue
            seen[number] = rel
            items.append((number, slug, entry))
        return sorted(items)

    def load_modules(self, pass_mark: int) -> list:
        folders = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        modules = []
        for _number, slug, folder in self.numbered(folders, "module"):
            module = self.load_module(slug, folder, pass_mark)
            if module:
                modules.append(module)
        if not modules and not self.problems:
            self.problem("course.yaml", None, "the course has no modules (numbered folders)")
        return modules

    def load_module(self, slug: str, folder: Path, pass_mark: int):
        rel = self.rel(folder)
        meta_file = folder / "module.yaml"
        if not meta_file.is_file():
            self.problem(f"{rel}/module.yaml", None, "missing: every module needs a module.yaml")
            return None
        meta = self.load_yaml_file(meta_file)
        if meta is None:
            return None
        path = self.rel(meta_file)
        self.check_keys(meta, path, {"title"}, {"summary"})
        module = _PendingModule(
            slug,
            self.text(meta, "title", path) or slug,
            self.text(meta, "summary", path, default="", required=False, max_length=None),
        )
        files = [
            p for p in folder.iterdir() if p.is_file() and p.suffix in {".md", ".yaml", ".yml"}
        ]
        for stray in files:
            if stray.name != "module.yaml" and not NUMBERED.match(stray.stem):
                self.problem(
                    self.rel(stray), None, "lesson and quiz files start with a number, e.g. 01-"
                )
        for _number, item_slug, path_ in self.numbered(files, "lesson"):
            if path_.suffix == ".md":
                loaded = self.load_lesson(item_slug, path_)
                if loaded:
                    module.lessons.append(loaded[0])
                    module.pending.append(loaded)
            else:
                quiz = self.load_quiz(item_slug, path_, pass_mark)
                if quiz:
                    module.lessons.append(quiz)
        if not module.lessons:
            self.problem(rel, None, "the module has no lessons or quizzes")
        return module

    def load_lesson(self, slug: str, path: Path):
        rel = self.rel(path)
        try:
            text = self.read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            self.problem(rel, None, "not UTF-8 text")
            return None
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            self.problem(rel, 1, "a lesson starts with front matter between '---' lines")
            return None
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            self.problem(rel, 1, "the front matter is not closed with '---'")
            return None
        meta = self.parse_yaml("\n".join(lines[1:end]), rel, line_offset=1)
        if meta is None:
            if not any(p.path == rel for p in self.problems):
                self.problem(rel, 2, "the front matter is empty (it needs title and minutes)")
            return None
        if not isinstance(meta, dict):
            self.problem(rel, 2, "the front matter must be a mapping (title, minutes)")
            return None
        self.check_keys(meta, rel, {"title", "minutes"}, {"required"})
        body = "\n".join(lines[end + 1 :])
        if not body.strip():
            self.problem(rel, end + 2, "the lesson has no content")
        lesson = LessonSpec(
            slug=slug,
            kind="lesson",
            title=self.text(meta, "title", rel) or slug,
            minutes=self.number(meta, "minutes", rel, low=1, high=600, default=1),
            is_required=self.flag(meta, "required", rel),
            source_path=rel,
        )
        return lesson, body, end + 2

    def check_unique_slugs(self, modules) -> None:
        module_slugs: set[str] = set()
        lesson_slugs: dict[str, str] = {}
        for module in modules:
            if module.slug in module_slugs:
                self.problem(module.slug, None, f"module slug '{module.slug}' is used twice")
            module_slugs.add(module.slug)
            for lesson in module.lessons:
                if lesson.slug in lesson_slugs:
                    self.problem(
                        lesson.source_path,
                        None,
                        f"slug '{lesson.slug}' is also used by {lesson_slugs[lesson.slug]}; "
                        "lesson and quiz slugs are unique in a course",
                    )
                else:
                    lesson_slugs[lesson.slug] = lesson.source_path

    def lesson_index(self, modules) -> dict[str, str]:
        return {lesson.source_path: lesson.slug for m in modules for lesson in m.lessons}
