import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.core.extensions import api, db
from lms.core.readiness import readiness
from lms.web import navigation

bp = Blueprint("web", __name__, template_folder="templates")


@bp.app_context_processor
def header_navigation() -> dict:
    """The header shows only what the person may use (read lazily, once per request)."""

    def nav():
        if not current_user.is_authenticated:
            return None
        try:
            return navigation.navigation_for(current_user)
        except sa.exc.SQLAlchemyError:  # an error page while the database is away
            db.session.rollback()
            return navigation.Navigation()

    return {"nav": nav}


@bp.get("/")
def home():
    return render_template("web/home.html")


@bp.get("/start")
@login_required
def start():
    """Where each person lands after logging in or accepting an invitation."""
    return redirect(navigation.landing_url(current_user))


@bp.get("/admin")
@login_required
def admin():
    """The platform admin's starting points: organizations, courses, certificates, sponsors."""
    if not current_user.is_platform_admin:
        abort(403)
    return render_template("web/admin.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; send the same icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


NOT_CACHED = {"Cache-Control": "no-store"}  # a proxy must not answer a probe from its cache


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. No dependency is checked (that is /readyz), so a
    database outage does not make an orchestrator restart every instance."""
    return {"status": "ok"}, 200, NOT_CACHED


@bp.get("/readyz")
def readyz():
    """Readiness: the database and, when configured, the Celery broker answer."""
    ready, checks = readiness()
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return body, 200 if ready else 503, NOT_CACHED


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(ref_or_schema) -> str | None:
    if isinstance(ref_or_schema, dict):
        ref = ref_or_schema.get("$ref") or ref_or_schema.get("items", {}).get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return f"{name}[]" if "items" in ref_or_schema else name
    return None


@bp.get("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a plain page: no JavaScript, no CDN."""
    spec = api.spec.to_dict()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody", {}).get("content", {})
            body_schema = next(iter(body.values()), {}).get("schema") if body else None
            operations.append(
                {
                    "tag": (op.get("tags") or ["Other"])[0],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []) + item.get("parameters", []),
                    "body": _schema_name(body_schema),
                    "responses": [
                        (
                            code,
                            resp.get("description", ""),
                            _schema_name(
                                next(iter(resp.get("content", {}).values()), {}).get("schema")
                            ),
                        )
                        for code, resp in op.get("responses", {}).items()
                    ],
                }
            )
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template("web/api_docs.html", spec=spec, operations=operations, schemas=schemas)
