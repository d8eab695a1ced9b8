"""The OpenAPI document says what the server does.

Each operation gets, from the decorators it already has:

* an ``operationId``: the view's name in camelCase (``create_invitation`` ->
  ``createInvitation``), or ``operation_id=`` on ``@blp.route`` where the name reads badly;
* its ``security``, from the mark ``lms.core.auth`` leaves (``public``, ``login_optional``,
  ``login_required``, ``platform_admin_required``); a route without one is refused when the
  module is imported, so no operation is undocumented by accident;
* its error responses: 401 and 403 from the same mark, 404 for a path parameter, 422 for
  arguments, 400/413/415 for a JSON body (malformed, too large, not JSON), 400 for every write
  (the CSRF check on a session), and the rest (409, 410, 429, ...) from
  ``@blp.error_responses(...)`` on the routes that answer them.

``init_openapi`` adds what marshmallow fields cannot say by themselves: a type for nullable
nested objects, and limits that come from settings (``PASSWORD_MIN_LENGTH``).
"""

from http import HTTPStatus

import marshmallow as ma
from flask import Flask
from flask_smorest.pagination import PaginationMetadataSchema

from lms.core.auth import AUTH_MARK

READS_MARK = "api_reads"  # where the view's arguments come from: {"json", "query", ...}
ERRORS_MARK = "api_error_responses"

BEARER = {"bearerAuth": []}
COOKIE = {"cookieAuth": []}
COOKIE_AND_CSRF = {"cookieAuth": [], "csrfToken": []}
ANONYMOUS: dict = {}

# Field metadata naming settings whose values are limits: {"minLength": "PASSWORD_MIN_LENGTH"}.
LIMITS_FROM_SETTINGS = "limits_from_settings"


def camel_case(view_name: str) -> str:
    head, *rest = view_name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def security(auth: str, method: str) -> list[dict]:
    """Who may call: a bearer token, or the session cookie (plus the CSRF header on writes)."""
    if auth == "public":
        return []
    signed_in = [BEARER, COOKIE if method == "GET" else COOKIE_AND_CSRF]
    return [ANONYMOUS, *signed_in] if auth == "optional" else signed_in


def error_codes(auth: str, method: str, rule: str, reads: frozenset, extra: frozenset) -> list:
    codes = set(extra)
    if auth in ("login", "platform_admin"):
        codes.add(401)
    if auth == "platform_admin":
        codes.add(403)
    if "<" in rule:
        codes.add(404)  # an unknown (or another organization's) slug, id or code
    if reads:
        codes.add(422)
    if "json" in reads:
        codes.update((400, 413, 415))
    if "files" in reads:
        codes.add(413)
    if method != "GET":
        codes.add(400)  # a write on a session without its X-CSRFToken header
    return sorted(codes)


class OpenApiBlueprintMixin:
    """``route``, ``arguments`` and the pagination header, documented as they behave."""

    def route(self, rule, *, parameters=None, tags=None, operation_id=None, **options):
        methods = options.get("methods", ["GET"])
        if len(methods) != 1:
            raise TypeError(f"{rule}: one method per API route, so each has its own operation.")
        (method,) = methods
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(func):
            auth = getattr(func, AUTH_MARK, None)
            if auth is None:
                raise TypeError(
                    f"{func.__name__}: say who may call it (lms.core.auth: public, "
                    "login_optional, login_required or platform_admin_required)."
                )
            codes = error_codes(
                auth,
                method.upper(),
                rule,
                getattr(func, READS_MARK, frozenset()),
                getattr(func, ERRORS_MARK, frozenset()),
            )
            documented = self.doc(
                operationId=operation_id or camel_case(func.__name__),
                security=security(auth, method.upper()),
                responses={code: HTTPStatus(code).name for code in codes},
            )(func)
            return register(documented)

        return decorator

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        """flask-smorest's ``arguments``. A JSON body is required unless ``required=False``:
        the document says so, and the parser answers 422 when it is missing (it used to read
        a missing body as ``{}``)."""
        if location == "json":
            schema = schema() if isinstance(schema, type) else schema
            schema.body_required = required
        parse = super().arguments(schema, location=location, required=required, **kwargs)

        def decorator(func):
            view = parse(func)
            setattr(view, READS_MARK, getattr(view, READS_MARK, frozenset()) | {location})
            return view

        return decorator

    @staticmethod
    def error_responses(*codes: int):
        """The errors a route answers besides those its decorators imply (409, 410, 429, ...)."""

        def decorator(func):
            setattr(func, ERRORS_MARK, getattr(func, ERRORS_MARK, frozenset()) | set(codes))
            return func

        return decorator

    def links(self, code: int, **targets: tuple[str, dict]):
        """OpenAPI links from this answer to the operations it leads to, so that clients (and
        stateful fuzzing) can follow them: ``links(201, getOrganization=("getOrganization",
        {"slug": "$response.body#/slug"}))``."""
        links = {
            name: {"operationId": operation_id, "parameters": parameters}
            for name, (operation_id, parameters) in targets.items()
        }
        return self.doc(responses={code: {"links": links}})

    def also_csv(self):
        """The 200 answer may also be CSV: ``?format=csv`` on a list sends every row."""
        csv = {"schema": {"type": "string", "description": "every row (?format=csv)"}}
        return self.doc(responses={200: {"content": {"text/csv": csv}}})

    def _document_pagination_metadata(self, spec, resp_doc):
        # flask-smorest's hook for this; it documents the header as an object, but the header
        # holds the object's JSON text.
        if "PaginationMetadata" not in spec.components.schemas:
            spec.components.schema("PaginationMetadata", schema=PaginationMetadataSchema)
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "The pages, as JSON text: total, total_pages, page, next_page, ...",
            "schema": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/PaginationMetadata"},
            },
        }


def init_openapi(app: Flask) -> None:
    """Teach this app's document (after ``api.init_app``) what the fields cannot say."""
    from lms.core.extensions import api

    config = app.config

    def limits_from_settings(self, field, ret, **kwargs) -> dict:
        names = field.metadata.get(LIMITS_FROM_SETTINGS, {})
        return {keyword: config[name] for keyword, name in names.items()}

    def nullable_object_type(self, field, ret, **kwargs) -> dict:
        # apispec writes a nullable nested schema as anyOf [the schema, null], without a type.
        if isinstance(field, ma.fields.Nested) and "anyOf" in ret and "type" not in ret:
            return {"type": ["object", "null"]}
        return {}

    converter = api.ma_plugin.converter
    converter.add_attribute_function(limits_from_settings)
    converter.add_attribute_function(nullable_object_type)
