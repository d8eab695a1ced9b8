"""Shared marshmallow fields: every schema reads names, notes, slugs and times through these, so
one rule holds for each kind of value (see ``lms.core.inputs``)."""

from datetime import UTC

from marshmallow import ValidationError, fields, validate

from lms.core.inputs import MAX_ID
from lms.core.patterns import COUNTRY_CODE, SLUG
from lms.core.text import clean_line, clean_text


class FullMatch(validate.Regexp):
    """``Regexp`` that the whole value must match. Python's ``$`` also matches before a final
    newline, so ``"ospo\\n"`` passed ``^[a-z]+$``; the pattern in the OpenAPI document is the
    same one and means the same thing there."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def slug(error: str = "Use lowercase letters, digits and hyphens.") -> FullMatch:
    return FullMatch(SLUG, error=error)


def country_code(error: str = "Use a two-letter ISO country code.") -> FullMatch:
    return FullMatch(COUNTRY_CODE, error=error)


class Line(fields.String):
    """One line of text: a name, a title, a search. Surrounding whitespace is dropped; CR, LF,
    NUL and other control characters are refused; blank is refused unless ``blank=True``."""

    def __init__(self, *, max_length: int, blank: bool = False, **kwargs):
        self.blank = blank
        length = validate.Length(min=None if blank else 1, max=max_length)
        extra = kwargs.pop("validate", None) or []
        extra = [extra] if callable(extra) else list(extra)
        metadata = {"description": "one line; no control characters", **kwargs.pop("metadata", {})}
        super().__init__(validate=[length, *extra], metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_line(value, required=not self.blank)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Text(fields.String):
    """Multi-line free text (a note, a reason): line breaks and tabs are kept; NUL and other
    control characters are refused; surrounding whitespace is dropped."""

    def __init__(self, *, max_length: int, blank: bool = True, **kwargs):
        self.blank = blank
        length = validate.Length(min=None if blank else 1, max=max_length)
        metadata = {
            "description": "line breaks allowed; no other control characters",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(validate=length, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(value, required=not self.blank)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date and time, returned in UTC. A time without an offset is read as UTC;
    one that leaves the years 1-9999 once converted to UTC is refused."""

    default_error_messages = {"range": "Must be between the years 1 and 9999 in UTC."}

    def __init__(self, **kwargs):
        metadata = {
            "description": "ISO 8601; a time without an offset is read as UTC",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(default_timezone=UTC, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("range") from None


def id_range() -> validate.Range:
    """The range of a database id (PostgreSQL ``integer``)."""
    return validate.Range(min=1, max=MAX_ID)
