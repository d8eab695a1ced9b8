"""What a loaded course is: the specs the loader returns, and the problems it reports."""

from dataclasses import dataclass, field


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
