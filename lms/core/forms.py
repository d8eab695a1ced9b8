"""What every HTML form shares: the button form, the validators that apply the API's rules
(``lms.core.inputs``, the schemas' own fields), and showing a service's error on a form."""

import marshmallow as ma
from flask_wtf import FlaskForm
from wtforms.validators import StopValidation

from lms.core.errors import DomainError
from lms.core.text import clean_line, clean_text


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons such as log out and revoke."""


def show_error(form: FlaskForm, exc: DomainError) -> int:
    """Show a service's error on the form: its message above the fields, and its per-field
    messages at the fields they name. Returns the status the page answers with."""
    form.form_errors.append(exc.message)
    for field_name, messages in (exc.errors or {}).items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
    return exc.code


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


class SchemaField:
    """Checks a form field by a field of an API schema, so that a page and the API apply one
    rule (a slug's pattern, a website's schemes) and store the same value: ``field.data``
    becomes the schema field's result. Put ``Optional()`` before it for an optional field."""

    def __init__(self, schema: type[ma.Schema], name: str):
        self.schema, self.name = schema, name
        self._field = None

    def __call__(self, form, field):
        if self._field is None:
            self._field = self.schema().fields[self.name]
        try:
            field.data = self._field.deserialize(field.data)
        except ma.ValidationError as exc:
            messages = exc.messages
            if isinstance(messages, dict):
                messages = [m for texts in messages.values() for m in texts]
            raise StopValidation(" ".join(str(m) for m in messages)) from None
