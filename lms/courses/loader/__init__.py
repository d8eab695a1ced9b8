"""Reads a course folder (see docs/course-format.md) into a validated, rendered ``CourseSpec``.

Pure: no database, no Flask. Every problem is collected with its file and line, and
``load_course`` raises ``CourseFormatError`` listing all of them, so an author fixes a course in
one round instead of one error at a time.

The modules, one job each:

* ``specs``: what a loaded course is (``CourseSpec`` and its parts) and ``Problem``;
* ``yaml_lines``: YAML read with the line of every key and list item;
* ``folder``: reading the folder's files, remembering them for the content hash;
* ``validators``: the checks on keys, text, numbers and flags, each pointing at its line;
* ``links``: lesson links and images rewritten to site URLs, and the files they use;
* ``quizzes``: quiz files, their questions and choices;
* ``course``: course.yaml, the numbered module folders and lesson files, unique slugs;
* ``content_hash``: the hash over the course's files that names a version's content.
"""

from pathlib import Path

from lms.courses.loader.course import CourseReader
from lms.courses.loader.specs import (
    AssetSpec,
    ChoiceSpec,
    CourseFormatError,
    CourseSpec,
    LessonSpec,
    ModuleSpec,
    Problem,
    QuestionSpec,
)

__all__ = [
    "AssetSpec",
    "ChoiceSpec",
    "CourseFormatError",
    "CourseSpec",
    "LessonSpec",
    "ModuleSpec",
    "Problem",
    "QuestionSpec",
    "load_course",
]


def load_course(folder: Path) -> CourseSpec:
    """Read and validate a course folder; raises ``CourseFormatError`` with every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseFormatError([Problem(str(folder), None, "not a folder")])
    reader = CourseReader(folder)
    spec = reader.load()
    if spec is None or reader.problems:
        raise CourseFormatError(reader.problems or [Problem(str(folder), None, "not a course")])
    return spec
