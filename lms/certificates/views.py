"""HTML pages: public verification (by code, or through the lookup form) and "my
certificates"."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.certificates import changes, codes, services, verification
from lms.certificates.api import verify_limit
from lms.certificates.forms import ReinstateForm, RevokeForm
from lms.core.errors import DomainError, NotFound
from lms.core.forms import show_error

bp = Blueprint("certificates", __name__, template_folder="templates")

MY_CERTIFICATES_LIMIT = 200


@bp.get("/verify")
@verify_limit
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
@verify_limit
def verify_page(code: str):
    """Anyone: what the certificate says and whether it still holds. No personal data beyond
    the printed name."""
    return _verify_page(code)


def _verify_page(code: str, status: int = 200, **forms):
    try:
        result = verification.verify(code)
    except NotFound:
        return render_template("certificates/verify.html", verification=None, typed=code[:40]), 404
    context = {"revoke_form": None, "reinstate_form": None}
    if current_user.is_authenticated and current_user.is_platform_admin:
        # Platform admins revoke and reinstate from the page everyone verifies on.
        context = {
            "revoke_form": RevokeForm(formdata=None),
            "reinstate_form": ReinstateForm(formdata=None),
        }
    context.update(forms)
    return render_template(
        "certificates/verify.html", verification=result, typed=code, **context
    ), status


@bp.post("/verify/<code>/revoke")
@login_required
def revoke(code: str):
    """Platform admins revoke from the verification page, with a reason shown there."""
    return _change(code, RevokeForm(), "revoke_form", changes.revoke, "is revoked")


@bp.post("/verify/<code>/reinstate")
@login_required
def reinstate(code: str):
    """Platform admins undo a revocation."""
    return _change(code, ReinstateForm(), "reinstate_form", changes.reinstate, "is valid again")


def _change(code: str, form, form_name: str, change, done: str):
    """A platform admin's change of a certificate's standing, from its verification page: the
    page again with the form's errors, or back to it with the news."""
    if not current_user.is_platform_admin:
        abort(403)
    if not form.validate_on_submit():
        return _verify_page(code, 422, **{form_name: form})
    try:
        certificate = change(current_user, code, form.reason.data or "")
    except DomainError as exc:
        return _verify_page(code, show_error(form, exc), **{form_name: form})
    shown = codes.display(certificate.code)
    flash(f"Certificate {shown} {done}.", "success")
    return redirect(url_for("certificates.verify_page", code=shown))


@bp.get("/certificates/<code>/linkedin")
@verify_limit
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
