"""The checks on a YAML mapping's keys and values (text, numbers, flags): each problem points
at the line of the key."""

from lms.core.text import clean_line, clean_text
from lms.courses.loader.folder import FolderReader
from lms.courses.loader.yaml_lines import LineDict


class FieldChecks(FolderReader):
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
