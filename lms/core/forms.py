"""Shared WTForms validators: the HTML forms apply the same text rules as the API's schemas
(``lms.core.inputs``)."""

from wtforms.validators import Regexp, StopValidation, ValidationError

from lms.core.text import clean_line, clean_text


class _Cleaned:
    clean = staticmethod(clean_line)

    def __init__(self, required: bool = True):
        self.required = required
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form, field):
        if field.data is None or (not self.required and field.data == ""):
            if self.required:
                raise StopValidation("This field is required.")
            return
        try:
            field.data = self.clean(field.data, required=self.required)
        except ValueError as exc:
            raise StopValidation(str(exc)) from None


class Line(_Cleaned):
    """One line of text (``clean_line``): strips the value and refuses CR, LF, NUL and other
    control characters; when required, refuses blank. Use instead of ``InputRequired``."""


class Text(_Cleaned):
    """Multi-line text (``clean_text``): strips the value and refuses NUL and other control
    characters; line breaks stay."""

    clean = staticmethod(clean_text)

    def __init__(self, required: bool = False):
        super().__init__(required)


class FullMatch(Regexp):
    """``Regexp`` that the whole value must match (Python's ``$`` allows a final newline)."""

    def __call__(self, form, field, message=None):
        if self.regex.fullmatch(field.data or "") is None:
            raise ValidationError(message or self.message or field.gettext("Invalid input."))
