"""The text rules, in one place: names and other one-line values, multi-line notes, and the
base rule for every string a client sends. Pure (no Flask): the schemas, the HTML forms, the
course loader and the CSV import all call these."""

import re
from collections.abc import Mapping

# Control characters (C0, DEL, C1), the Unicode line and paragraph separators, and surrogates
# (which only a JSON escape such as "\ud800" can produce; they cannot be encoded as UTF-8).
NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same, except tab, LF and CR: multi-line text keeps its line breaks.
NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")

LINE_MESSAGE = "Must be a single line without control characters (line breaks, NUL, ...)."
TEXT_MESSAGE = "Must not contain NUL or other control characters."
BLANK_MESSAGE = "Must not be blank."


def clean_line(value: str, *, required: bool = True) -> str:
    """One line of text (a name, a title, a search): CR, LF, NUL and other control characters
    are refused, surrounding whitespace is dropped, and a required value must not be blank.

    Returns the cleaned value; raises ``ValueError`` with a message for people. The CSV import
    calls this for its ``name`` column, the schemas and forms through their fields."""
    if NOT_IN_A_LINE.search(value):
        raise ValueError(LINE_MESSAGE)
    value = value.strip()
    if required and not value:
        raise ValueError(BLANK_MESSAGE)
    return value


def clean_text(value: str, *, required: bool = False) -> str:
    """Multi-line free text (a note, a reason): line breaks and tabs are kept; NUL and other
    control characters are refused; surrounding whitespace is dropped."""
    if NOT_IN_TEXT.search(value):
        raise ValueError(TEXT_MESSAGE)
    value = value.strip()
    if required and not value:
        raise ValueError(BLANK_MESSAGE)
    return value


def has_control_characters(value) -> bool:
    """Whether a string, or any string inside a list or mapping, holds NUL or another control
    character other than tab and line breaks (the base rule for every string in a body)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NOT_IN_TEXT.search(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
