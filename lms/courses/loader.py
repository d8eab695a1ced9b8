"""Reads a course folder (see docs/course-format.md) into a validated, rendered ``CourseSpec``.

Pure: no database, no Flask. Every problem is collected with its file and line, and
``load_course`` raises ``CourseFormatError`` listing all of them, so an author fixes a course in
one round instead of one error at a time.
"""

import hashlib
import mimetypes
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import yaml

from lms.core.text import clean_line, clean_text
from lms.courses.rendering import render_inline, render_markdown

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NUMBERED = re.compile(r"^(\d+)-(.+)$")
IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
DOWNLOAD_TYPES = {".pdf", ".csv", ".txt", ".zip", ".ipynb", ".py", ".r", ".json"}
MAX_ASSET_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class CourseFormatError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ChoiceSpec:
    id: str
    text: str
    text_html: str


@dataclass
class QuestionSpec:
    id: str
    type: str  # single | multiple
    prompt: str
    prompt_html: str
    choices: list[ChoiceSpec]
    answer: list[str]
    explanation_html: str


@dataclass
class LessonSpec:
    slug: str
    kind: str  # lesson | quiz
    title: str
    minutes: int
    is_required: bool
    source_path: str
    body_html: str = ""
    pass_mark: int | None = None
    max_attempts: int | None = None
    questions: list[QuestionSpec] = field(default_factory=list)


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    lessons: list[LessonSpec]


@dataclass
class AssetSpec:
    path: str
    sha256: str
    media_type: str
    data: bytes


@dataclass
class CourseSpec:
    slug: str
    title: str
    version: str
    summary: str
    topics: list[str]
    estimated_hours: float
    pass_mark: int
    modules: list[ModuleSpec]
    assets: dict[str, AssetSpec]
    content_hash: str
    version_line: int

    @property
    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]


# -- YAML with line numbers -------------------------------------------------------------


class LineDict(dict):
    """A mapping that remembers the line of each key (``lines``) and its own (``line``)."""

    line: int = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}

    def line_of(self, key) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    line: int = 1

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            loader.duplicate_keys.append((key, key_node.start_mark.line + 1))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader, node):
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# -- the loader -------------------------------------------------------------------------


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.hashed: dict[str, bytes] = {}
        self.assets: dict[str, AssetSpec] = {}
        self.course_slug = "course"

    # reporting and reading

    def problem(self, path: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_bytes(self, path: Path) -> bytes:
        data = path.read_bytes()
        self.hashed[self.rel(path)] = data
        return data

    def parse_yaml(self, text: str, path: str, line_offset: int = 0):
        loader = _LineLoader(text)
        loader.duplicate_keys = []
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark else None
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(path, line, f"invalid YAML: {reason}")
            return None
        finally:
            loader.dispose()
        for key, line in loader.duplicate_keys:
            self.problem(path, line + line_offset, f"key '{key}' appears twice")
        if isinstance(data, LineDict) and line_offset:
            data.line += line_offset
            data.lines = {k: v + line_offset for k, v in data.lines.items()}
        return data

    def load_yaml_file(self, path: Path):
        rel = self.rel(path)
        try:
            text = self.read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            self.problem(rel, None, "not UTF-8 text")
            return None
        data = self.parse_yaml(text, rel)
        if data is None and not any(p.path == rel for p in self.problems):
            self.problem(rel, 1, "the file is empty")
            return None
        if data is not None and not isinstance(data, dict):
            self.problem(rel, 1, "expected a mapping of keys to values")
            return None
        return data

    # key checks

    def check_keys(self, data: LineDict, path: str, required: set, optional: set) -> bool:
        ok = True
        for key in sorted(required - data.keys()):
            self.problem(path, data.line, f"missing key '{key}'")
            ok = False
        for key in data.keys() - required - optional:
            self.problem(path, data.line_of(key), f"unknown key '{key}'")
            ok = False
        return ok

    def text(self, data, key, path, *, default=None, required=True, max_length=200) -> str | None:
        if key not in data:
            return default  # a missing required key is reported by check_keys
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(path, data.line_of(key), f"'{key}' must be non-empty text")
            return None
        # Titles and slugs (bounded) are one line, as every name is; summaries, prompts and
        # explanations may span lines. Neither may hold NUL or other control characters.
        try:
            value = clean_line(value) if max_length else clean_text(value, required=True)
        except ValueError as exc:
            self.problem(path, data.line_of(key), f"'{key}': {exc}")
            return None
        if max_length and len(value) > max_length:
            self.problem(path, data.line_of(key), f"'{key}' is longer than {max_length} characters")
            return None
        return value

    def number(self, data, key, path, *, low, high, integer=True, default=None):
        if key not in data:
            return default
        value = data[key]
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            kind = "a whole number" if integer else "a number"
            self.problem(path, data.line_of(key), f"'{key}' must be {kind} from {low} to {high}")
            return default
        return value

    def flag(self, data, key, path, default=True) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(path, data.line_of(key), f"'{key}' must be true or false")
            return default
        return value

    # the course

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
        if slug and not SLUG.match(slug):
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
        if not isinstance(topics, list) or not all(
            isinstance(t, str) and SLUG.match(t) and len(t) <= 60 for t in topics
        ):
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
            content_hash=self.content_hash(),
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
            if not SLUG.match(slug) or len(slug) > 100:
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

    def load_quiz(self, slug: str, path: Path, pass_mark: int) -> LessonSpec | None:
        rel = self.rel(path)
        data = self.load_yaml_file(path)
        if data is None:
            return None
        self.check_keys(
            data, rel, {"title", "questions"}, {"pass_mark", "max_attempts", "required", "minutes"}
        )
        questions = data.get("questions")
        quiz = LessonSpec(
            slug=slug,
            kind="quiz",
            title=self.text(data, "title", rel) or slug,
            minutes=self.number(data, "minutes", rel, low=1, high=600, default=None) or 0,
            is_required=self.flag(data, "required", rel),
            source_path=rel,
            pass_mark=self.number(data, "pass_mark", rel, low=0, high=100, default=pass_mark),
            max_attempts=self.number(data, "max_attempts", rel, low=1, high=100, default=None),
        )
        if not isinstance(questions, list) or not questions:
            if "questions" in data:
                self.problem(rel, data.line_of("questions"), "'questions' must be a non-empty list")
            return quiz
        seen: set[str] = set()
        for index, question in enumerate(questions):
            line = questions.lines[index] if isinstance(questions, LineList) else data.line
            spec = self.load_question(question, rel, line, seen)
            if spec:
                quiz.questions.append(spec)
        if not quiz.minutes:
            quiz.minutes = max(1, round(len(quiz.questions) * 1.5))
        return quiz

    def load_question(self, question, rel: str, line: int, seen: set) -> QuestionSpec | None:
        if not isinstance(question, LineDict):
            self.problem(rel, line, "each question is a mapping (id, type, prompt, ...)")
            return None
        before = len(self.problems)
        self.check_keys(
            question, rel, {"id", "type", "prompt", "choices", "answer", "explanation"}, set()
        )
        qid = question.get("id")
        if not isinstance(qid, str) or not SLUG.match(qid):
            self.problem(rel, question.line_of("id"), "question 'id' must be a slug, e.g. q1")
        elif qid in seen:
            self.problem(rel, question.line_of("id"), f"question id '{qid}' is used twice")
        else:
            seen.add(qid)
        qtype = question.get("type")
        if qtype not in ("single", "multiple"):
            self.problem(rel, question.line_of("type"), "'type' must be single or multiple")
        prompt = self.text(question, "prompt", rel, max_length=None)
        explanation = self.text(question, "explanation", rel, max_length=None)
        choices = self.load_choices(question, rel)
        answer = question.get("answer")
        answers = [answer] if isinstance(answer, str | int) else answer
        if isinstance(answers, list):
            # Choice ids may be written as numbers (id: 1); compare them as text.
            answers = [
                str(a) if isinstance(a, int) and not isinstance(a, bool) else a for a in answers
            ]
        answer_line = question.line_of("answer")
        if "answer" in question:
            if not isinstance(answers, list) or not answers:
                self.problem(rel, answer_line, "the question has no correct answer")
                answers = []
            choice_ids = {c.id for c in choices}
            for value in answers:
                if value not in choice_ids:
                    self.problem(
                        rel, answer_line, f"the answer '{value}' is not one of the choices"
                    )
            if qtype == "single" and len(answers) > 1:
                self.problem(rel, answer_line, "a single-choice question has exactly one answer")
            if len(set(answers)) != len(answers):
                self.problem(rel, answer_line, "an answer is listed twice")
        if len(self.problems) > before:
            return None
        return QuestionSpec(
            id=qid,
            type=qtype,
            prompt=prompt,
            prompt_html=render_inline(prompt),
            choices=choices,
            answer=[str(a) for a in answers],
            explanation_html=render_inline(explanation),
        )

    def load_choices(self, question: LineDict, rel: str) -> list[ChoiceSpec]:
        raw = question.get("choices")
        if "choices" not in question:
            return []
        if not isinstance(raw, list) or len(raw) < 2:
            self.problem(rel, question.line_of("choices"), "a question needs at least two choices")
            return []
        choices, seen = [], set()
        for index, choice in enumerate(raw):
            line = raw.lines[index] if isinstance(raw, LineList) else question.line
            if not isinstance(choice, LineDict):
                self.problem(rel, line, "each choice is a mapping with 'id' and 'text'")
                continue
            self.check_keys(choice, rel, {"id", "text"}, set())
            cid, text = choice.get("id"), choice.get("text")
            if isinstance(cid, int) and not isinstance(cid, bool):
                cid = str(cid)
            if not isinstance(cid, str) or not SLUG.match(cid):
                self.problem(rel, choice.line_of("id"), "choice 'id' must be a short slug, e.g. a")
                continue
            if cid in seen:
                self.problem(rel, choice.line_of("id"), f"choice id '{cid}' is used twice")
                continue
            if isinstance(text, bool):
                self.problem(
                    rel, choice.line_of("text"), "choice 'text' reads as yes/no: put it in quotes"
                )
                continue
            if not isinstance(text, str | int | float) or not str(text).strip():
                self.problem(rel, choice.line_of("text"), "choice 'text' must be non-empty text")
                continue
            seen.add(cid)
            choices.append(ChoiceSpec(cid, str(text).strip(), render_inline(str(text))))
        return choices

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

    # links and images

    def resolve(self, lesson: LessonSpec, url: str) -> tuple[str | None, str]:
        """The course-relative path a relative URL points to (None if it leaves the course)."""
        parts = urlsplit(url)
        base = posixpath.dirname(lesson.source_path)
        target = posixpath.normpath(posixpath.join(base, unquote(parts.path)))
        if target.startswith("../") or target == ".." or PurePosixPath(target).is_absolute():
            return None, parts.fragment
        return target, parts.fragment

    def render_lesson(self, lesson: LessonSpec, body: str, first_line: int, index) -> str:
        rel = lesson.source_path

        def rewrite_link(url: str, line: int) -> str | None:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "mailto") or url.startswith("#"):
                return url
            if parts.scheme or url.startswith("/"):
                self.problem(rel, line, f"link '{url}': use a relative path or an http(s) URL")
                return None
            target, fragment = self.resolve(lesson, url)
            if target in index:
                suffix = f"#{fragment}" if fragment else ""
                return f"/courses/{self.course_slug}/lessons/{index[target]}{suffix}"
            if target and PurePosixPath(target).suffix.lower() in DOWNLOAD_TYPES | IMAGE_TYPES:
                asset = self.asset(target, rel, line)
                return asset
            self.problem(rel, line, f"link to a lesson that does not exist: {url}")
            return None

        def rewrite_image(url: str, line: int) -> str | None:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("/"):
                self.problem(rel, line, f"image '{url}': images are files in the course folder")
                return None
            target, _ = self.resolve(lesson, url)
            if target is None or PurePosixPath(target).suffix.lower() not in IMAGE_TYPES:
                self.problem(rel, line, f"image '{url}' is missing or not a supported image")
                return None
            return self.asset(target, rel, line)

        return render_markdown(
            body, first_line=first_line, rewrite_link=rewrite_link, rewrite_image=rewrite_image
        )

    def asset(self, target: str, rel: str, line: int) -> str | None:
        path = self.root / target
        # Resolve links anywhere on the path: a linked folder must not reach outside the course.
        inside = path.resolve().is_relative_to(self.root.resolve())
        if not inside or not path.is_file():
            self.problem(rel, line, f"the file '{target}' is missing")
            return None
        if target not in self.assets:
            data = self.read_bytes(path)
            if len(data) > MAX_ASSET_BYTES:
                self.problem(target, None, "files used by lessons are limited to 5 MB")
                return None
            media_type = mimetypes.guess_type(target)[0] or "application/octet-stream"
            digest = hashlib.sha256(data).hexdigest()
            self.assets[target] = AssetSpec(target, digest, media_type, data)
        asset = self.assets[target]
        suffix = PurePosixPath(target).suffix.lower()
        return f"/courses/{self.course_slug}/assets/{asset.sha256}{suffix}"

    def content_hash(self) -> str:
        """SHA-256 over the course's files (names and bytes, in order), not their timestamps."""
        digest = hashlib.sha256()
        for name in sorted(self.hashed):
            data = self.hashed[name]
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()


@dataclass
class _PendingModule:
    slug: str
    title: str
    summary: str
    lessons: list[LessonSpec] = field(default_factory=list)
    pending: list = field(default_factory=list)


def load_course(folder: Path) -> CourseSpec:
    """Read and validate a course folder; raises ``CourseFormatError`` with every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseFormatError([Problem(str(folder), None, "not a folder")])
    loader = _Loader(folder)
    spec = loader.load()
    if spec is None or loader.problems:
        raise CourseFormatError(loader.problems or [Problem(str(folder), None, "not a course")])
    return spec
