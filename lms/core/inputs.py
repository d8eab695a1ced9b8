"""The rules for untrusted input, applied where requests are parsed so that every route obeys them.

* JSON bodies (``loads_json``, used by Flask's JSON provider and by the API's argument parser):
  at most ``MAX_JSON_DEPTH`` levels, no lone surrogates (they cannot be stored as UTF-8), no
  NaN or infinite numbers, no integers beyond Python's digit limit: all answer 400.
* Path segments (``SegmentConverter``, ``PathConverter``, ``IdConverter``): a segment with a
  control character, or an id outside 1..2^31-1 (PostgreSQL's ``integer``), matches no route,
  so the answer is 404.
* Query strings and HTML form fields (``refuse_control_characters``): NUL and other control
  characters are a 422 before any view runs. Form fields may hold line breaks and tabs
  (textareas); one-line fields refuse those in their own validators.
* Text values (``lms.core.text``): the one rule for names and notes, used by the marshmallow
  fields in ``lms.core.fields``, the WTForms validators in ``lms.core.forms``, the course
  loader and the CSV import.
* Integers in the query of HTML pages (``query_int``): bounded like the API's.
"""

import json
import math

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError

from lms.core.errors import RuleViolation
from lms.core.text import LINE_MESSAGE, NOT_IN_A_LINE, NOT_IN_TEXT, SURROGATE, TEXT_MESSAGE

# PostgreSQL's ``integer``: the type of every id column.
MAX_ID = 2**31 - 1
# The deepest JSON body lms reads is three levels (quiz answers); 32 leaves room for clients.
MAX_JSON_DEPTH = 32
# Pages of lists: page_size is at most 100, so an offset stays below 10^7.
MAX_PAGE = 100_000

# -- JSON -------------------------------------------------------------------------------


class InvalidJson(ValueError):
    """A body that is JSON but not one lms can use. A ``ValueError``, as Flask expects of its
    JSON provider, so ``request.get_json()`` answers 400 too."""


def _refuse_constant(name: str):
    raise InvalidJson(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise InvalidJson(f"The number {text[:20]}... is too large.")
    return number


def _check_structure(document) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if SURROGATE.search(value):
                raise InvalidJson("The body contains a lone surrogate (\\ud800-\\udfff).")
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJson(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)


def loads_json(data: str | bytes, **kwargs):
    """``json.loads`` for request bodies; every problem is an ``InvalidJson`` that says what.
    ``kwargs`` go to ``json.loads`` (an ``object_hook``, say)."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJson("The body is not valid UTF-8.") from None
    try:
        document = json.loads(
            data, parse_constant=_refuse_constant, parse_float=_finite_float, **kwargs
        )
    except RecursionError:
        raise InvalidJson(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except InvalidJson:
        raise
    except ValueError as exc:
        if "digits" in str(exc):  # int(): Exceeds the limit (4300 digits) ...
            raise InvalidJson("The body contains a number with too many digits.") from None
        raise InvalidJson(f"The body is not valid JSON: {exc}") from None
    _check_structure(document)
    return document


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``loads_json`` for reading. Keeps the key order of the output
    schemas (``sort_keys`` off)."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs):
        return loads_json(s, **kwargs)


# -- paths ------------------------------------------------------------------------------

# One path segment without control characters: NUL breaks PostgreSQL, and nothing lms names
# contains one, so such a segment matches no route (404).
_SEGMENT = r"[^/\x00-\x1f\x7f]"


class SegmentConverter(UnicodeConverter):
    """The default converter (``<slug>``), refusing control characters."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", _SEGMENT, 1)


class SafePathConverter(PathConverter):
    """``<path:...>``, refusing control characters."""

    regex = rf"{_SEGMENT}[^\x00-\x1f\x7f]*?"


class IdConverter(IntegerConverter):
    """``<id:...>``: a database id, 1..2^31-1. Anything larger matches no route (404) instead
    of overflowing the column (PostgreSQL) or the driver's integer (SQLite)."""

    def __init__(self, map, min: int = 1, max: int = MAX_ID, **kwargs):
        super().__init__(map, min=min, max=max, **kwargs)

    def to_python(self, value: str):
        # Refuse absurdly long digit strings before int() reads them.
        if len(value) > len(str(self.max)):
            raise ValidationError()
        return super().to_python(value)


# -- query strings and forms ------------------------------------------------------------


def refuse_control_characters() -> None:
    """Before every request: a NUL or control character in the query string, or in a field of
    an HTML form, is refused with 422 (it could only break a query or a header later)."""
    problems = {}
    for key, value in request.args.items(multi=True):
        if NOT_IN_A_LINE.search(key) or NOT_IN_A_LINE.search(value):
            problems[key] = [LINE_MESSAGE]
    if not request.path.startswith("/api/") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key, value in request.form.items(multi=True):
            if NOT_IN_A_LINE.search(key) or NOT_IN_TEXT.search(value):
                problems[key] = [TEXT_MESSAGE]
    if problems:
        raise RuleViolation(
            "Some of the input contains control characters. See the errors for each field.",
            errors=problems,
        )


def query_int(name: str, default: int | None, *, minimum: int = 1, maximum: int) -> int | None:
    """An integer from the query string of an HTML page, with the API's bounds: missing means
    ``default``, anything else that is not a whole number in range is a 422."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum)):
        value = int(raw)
        if minimum <= value <= maximum:
            return value
    raise RuleViolation(
        f"{name} must be a whole number from {minimum} to {maximum}.",
        errors={name: [f"Must be a whole number from {minimum} to {maximum}."]},
    )


def init_inputs(app: Flask) -> None:
    """Install the JSON provider, the converters and the query/form check. Call before the
    blueprints are registered: routes pick their converters when they are added."""
    app.json = JSONProvider(app)
    app.url_map.converters.update(
        default=SegmentConverter,
        string=SegmentConverter,
        path=SafePathConverter,
        id=IdConverter,
        # A plain <int:...> gets the same bounds: every integer in a path is an id here.
        int=IdConverter,
    )
    app.before_request(refuse_control_characters)
