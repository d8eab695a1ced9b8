"""Reading a course folder's files: every file read is remembered for the content hash, and
every problem is recorded with its file and line."""

from pathlib import Path

import yaml

from lms.courses.loader.specs import Problem
from lms.courses.loader.yaml_lines import LineDict, LineLoader


class FolderReader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        # Course-relative path -> bytes of every file read: the content hash covers them.
        self.hashed: dict[str, bytes] = {}

    def problem(self, path: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_bytes(self, path: Path) -> bytes:
        data = path.read_bytes()
        self.hashed[self.rel(path)] = data
        return data

    def parse_yaml(self, text: str, path: str, line_offset: int = 0):
        loader = LineLoader(text)
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
