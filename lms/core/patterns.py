"""The shapes that identifiers and codes must have, each written once. Pure (no Flask): the
API schemas (``lms.core.fields.slug``, the organization schemas), the HTML forms (through
those schemas) and the course loader all use these.

Match with ``fullmatch`` (or ``is_slug``): ``$`` alone also matches before a final newline.
"""

import re

# A public identifier: organizations, courses, modules, lessons, topics, question and choice ids.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# An ISO 3166-1 alpha-2 country code, e.g. DE or US.
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def is_slug(value) -> bool:
    """Whether ``value`` is text in the shape of a slug (lowercase-with-hyphens)."""
    return isinstance(value, str) and SLUG.fullmatch(value) is not None
