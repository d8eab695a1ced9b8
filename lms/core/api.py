"""API base classes: the Blueprint, the input/output schemas, the pager (``lms.core.paging``)
and CSV downloads of paginated lists."""

from collections.abc import Callable, Mapping
from functools import cache, wraps

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from lms.core.inputs import MAX_PAGE, InvalidJson, loads_json
from lms.core.openapi import OpenApiBlueprintMixin
from lms.core.paging import SQLAlchemyPage as SQLAlchemyPage  # API views import it from here
from lms.core.text import TEXT_MESSAGE, has_control_characters


class SchemaOnceParser(FlaskParser):
    """webargs' Flask parser, with each schema class built once."""

    def _get_schema(self, argmap, req):
        """One instance per schema class, made once: webargs makes a new one for every
        request, and building a schema (copying its declared fields) was a tenth of a
        report page. A schema keeps no state between loads, so one instance serves all."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)


class JsonOnlyParser(SchemaOnceParser):
    """Refuses a non-empty body that is not JSON (415) instead of ignoring it.

    webargs treats a form-encoded body on a JSON endpoint as "no body", which turns a client's
    mistake into confusing "missing field" errors.

    It also leaves unknown query parameters to the schema (``QuerySchema`` refuses them)
    instead of webargs' default of silently dropping them, and reads JSON with
    ``loads_json``: a body nested too deeply, with a lone surrogate or a number Python cannot
    read is a 400 that says so.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.get_data(cache=True):
                abort(415, message="Send a JSON body with Content-Type: application/json.")
            return webargs_core.missing
        try:
            return loads_json(req.get_data(cache=True))
        except InvalidJson as exc:
            abort(400, message=str(exc), messages={"json": [str(exc)]})

    def load_json(self, req, schema):
        """A body the document calls required (see ``Blueprint.arguments``) must be there."""
        data = super().load_json(req, schema)
        if data is webargs_core.missing and getattr(schema, "body_required", False):
            raise ma.ValidationError({"_schema": ["Send a JSON body."]})
        return data


@cache
def _schema_instance(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


@cache
def page_query_schema(first: int, size: int, max_size: int) -> type[ma.Schema]:
    """The pager's query parameters with both bounds: flask-smorest's own schema has no
    maximum page, and a page of 10^20 made an OFFSET no database can hold."""

    class PageQuery(ma.Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = ma.fields.Integer(load_default=first, validate=ma.validate.Range(1, MAX_PAGE))
        page_size = ma.fields.Integer(load_default=size, validate=ma.validate.Range(1, max_size))

    return PageQuery


class Blueprint(OpenApiBlueprintMixin, SmorestBlueprint):
    ARGUMENTS_PARSER = JsonOnlyParser()
    PAGINATION_ARGUMENTS_PARSER = SchemaOnceParser()
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 25, "max_page_size": 100}

    def paginate(self, pager=None, **kwargs):
        """flask-smorest's paginate, with a maximum page (422 beyond it, and stated in the
        OpenAPI document). Lists page with ``SQLAlchemyPage``: the view returns what to page.
        (A paginated view may not return a ``Response``; see ``csv_format`` for downloads.)"""
        paginate = super().paginate(pager, **kwargs)
        given = {key: value for key, value in kwargs.items() if value is not None}
        defaults = {**self.DEFAULT_PAGINATION_PARAMETERS, **given}
        bounds = page_query_schema(
            defaults["page"], defaults["page_size"], defaults["max_page_size"]
        )

        def decorator(func):
            paginated = paginate(func)
            # Document the bounded parameters in place of flask-smorest's (same names and
            # defaults, plus the maximum page).
            paginated._apidoc["pagination"]["parameters"]["schema"] = bounds

            @wraps(paginated)
            def wrapper(*args, **kw):
                self.ARGUMENTS_PARSER.parse(bounds, request, location="query")
                return paginated(*args, **kw)

            return wrapper

        return decorator


def csv_format(export: Callable[..., Response]):
    """For a paginated list whose query schema has ``format`` (``json`` or ``csv``): with
    ``?format=csv``, ``export`` answers (the same arguments as the view, ``format`` taken
    out; it returns the whole list as a streamed download) and the paginated view does not
    run. Goes between ``@blp.response`` (which sends a ``Response`` as it is) and
    ``@blp.paginate`` (whose views may not return one)::

        @blp.arguments(ReportQuery, location="query")
        @blp.response(200, ReportRowOut(many=True))
        @csv_format(report_csv)
        @blp.paginate(SQLAlchemyPage)
        def report(query, slug): ...
    """

    def decorator(view):
        @wraps(view)
        def wrapper(query, *args, **kwargs):
            if query.pop("format") == "csv":
                return export(query, *args, **kwargs)
            return view(query, *args, **kwargs)

        return wrapper

    return decorator


class InputSchema(ma.Schema):
    """Request bodies: unknown fields are an error, not silently dropped, and no string
    anywhere in a field (nested ones included) may hold NUL or another control character other
    than tab and line breaks. Fields for names and notes (``lms.core.fields``) are stricter."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_control_characters(self, data, **kwargs):
        if isinstance(data, Mapping):
            errors = {
                key: [TEXT_MESSAGE] for key, value in data.items() if has_control_characters(value)
            }
            if errors:
                raise ma.ValidationError(errors)
        return data

    @ma.pre_load
    def _refuse_other_json_types(self, data, **kwargs):
        """A boolean must be true or false and a number a number, as the document says:
        marshmallow alone reads 0, "yes" and "on" as booleans and "5" as a number."""
        if not isinstance(data, Mapping):
            return data
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            if value is None:
                continue
            if isinstance(field, ma.fields.Boolean):
                wrong = not isinstance(value, bool)
            elif isinstance(field, ma.fields.Number):
                wrong = isinstance(value, bool) or not isinstance(value, int | float)
            else:
                continue
            if wrong:
                errors[key] = [field.error_messages["invalid"]]
        if errors:
            raise ma.ValidationError(errors)
        return data


PAGER_PARAMETERS = frozenset({"page", "page_size"})


class QuerySchema(ma.Schema):
    """Query strings: unknown parameters are an error too, so a typo in a filter is visible.

    The pager's ``page`` and ``page_size`` are read by ``@blp.paginate``, so they are set
    aside here rather than reported as unknown.
    """

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _set_aside_pager(self, data, **kwargs):
        return {key: data[key] for key in data if key not in PAGER_PARAMETERS}


class OutputSchema(ma.Schema):
    """Response bodies."""

    class Meta:
        ordered = True
