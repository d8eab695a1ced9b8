"""HTML pages: public verification (by code, or through the lookup form) and "my
certificates"."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.certificates import codes, services, verification
from lms.certificates.api import verify_limit
from lms.core.errors import NotFound
from lms.core.extensions import limiter

bp = Blueprint("certificates", __name__, template_folder="templates")

MY_CERTIFICATES_LIMIT = 200


@bp.get("/verify")
@limiter.limit(verify_limit)
def verify_form():
    """The lookup form; a code typed in any case, with or without dashes, goes to its page."""
    typed = request.args.get("code", "").strip()
    if not typed:
        return render_template("certificates/verify_form.html", typed="", problem=None)
    code = codes.normalize(typed)
    if code is None:
        problem = "This is not a certificate code. Check it against the certificate."
        return render_template(
            "certificates/verify_form.html", typed=typed[:40], problem=problem
        ), 404
    return redirect(url_for("certificates.verify_page", code=codes.display(code)))


@bp.get("/verify/<code>")
@limiter.limit(verify_limit)
def verify_page(code: str):
    """Anyone: what the certificate says and whether it still holds. No personal data beyond
    the printed name."""
    try:
        result = verification.verify(code)
    except NotFound:
        return render_template("certificates/verify.html", verification=None, typed=code[:40]), 404
    return render_template("certificates/verify.html", verification=result, typed=code)


@bp.get("/certificates/<code>/linkedin")
@limiter.limit(verify_limit)
def add_to_linkedin(code: str):
    """On to LinkedIn's "Add to profile" form, filled in from the certificate: the dashboard
    and the course page link here knowing only the code. It tells nothing the verification
    page does not, so it is as public (and as rate-limited)."""
    certificate = services.find_by_code(code)
    if certificate is None:
        return render_template("certificates/verify.html", verification=None, typed=code[:40]), 404
    return redirect(services.linkedin_url(certificate))


@bp.get("/certificates")
@login_required
def my_certificates():
    rows, _total = services.certificates_page(
        services.my_certificates(current_user), 1, MY_CERTIFICATES_LIMIT
    )
    return render_template("certificates/mine.html", rows=rows)
