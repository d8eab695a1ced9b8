"""HTML pages: register, log in and out, password reset, email verification, account and API
tokens."""

from datetime import UTC, datetime, time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import services
from lms.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
    TokenForm,
)
from lms.accounts.throttling import failed_logins_limit
from lms.core.errors import DomainError
from lms.core.extensions import limiter
from lms.core.forms import EmptyForm, show_error
from lms.core.security import login_attempts_limit
from lms.core.urls import safe_next

bp = Blueprint("accounts", __name__, template_folder="templates")

SESSIONS_ENDED_NOTICE = (
    "Your password is changed: your other sessions were logged out and your API tokens revoked."
)


def _safe_next(default: str) -> str:
    """Only follow ?next= to a path on this site (no open redirect)."""
    return safe_next(request.args.get("next")) or default


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_attempts_limit, methods=["POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.self_register(form.email.data, form.password.data, form.name.data)
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            login_user(user)
            flash(
                f"Welcome! We sent a link to {user.email}: follow it to confirm your address.",
                "success",
            )
            return redirect(_safe_next(url_for("courses.catalog")))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_attempts_limit, methods=["POST"])
@failed_logins_limit
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            login_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            # Each person starts where their work is (web.start knows the roles).
            return redirect(_safe_next(url_for("web.start")))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("web.home"))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(login_attempts_limit, methods=["POST"])
def password_reset_request():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("accounts/password_reset_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/password_reset_request.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    try:
        services.check_reset_token(token)
    except DomainError as exc:
        return render_template("accounts/password_reset_invalid.html", message=exc.message), 400
    form = PasswordResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as exc:
            status = show_error(form, exc)
        else:
            flash(f"{SESSIONS_ENDED_NOTICE} Log in with the new one.", "success")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template("accounts/password_reset.html", form=form), status


@bp.route("/account/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """The mailed link. GET only shows a button: mail scanners that open links change nothing."""
    try:
        link = services.check_verification_token(token)
    except DomainError as exc:
        return render_template("accounts/verify_email_invalid.html", message=exc.message), 400
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = services.verify_email(token)
        except DomainError as exc:
            return render_template("accounts/verify_email_invalid.html", message=exc.message), 400
        flash(f"Thank you: {user.email} is confirmed.", "success")
        if current_user.is_authenticated:
            return redirect(url_for("accounts.account"))
        return redirect(url_for("accounts.login"))
    return render_template("accounts/verify_email.html", form=form, account=link.user)


@bp.post("/account/verification-email")
@limiter.limit(login_attempts_limit)
@login_required
def resend_verification_email():
    if EmptyForm().validate_on_submit():
        try:
            services.send_verification_email(current_user)
        except DomainError as exc:
            flash(exc.message, "info")
        else:
            flash(f"A new link is on its way to {current_user.email}.", "success")
    return redirect(url_for("accounts.account"))


def _account_page(status=200, **forms):
    user = current_user._get_current_object()
    tokens = services.api_tokens(user)
    context = {
        "profile_form": ProfileForm(name=user.name, formdata=None),
        "password_form": PasswordChangeForm(formdata=None),
        "token_form": TokenForm(formdata=None),
        "revoke_form": EmptyForm(formdata=None),
        "resend_form": EmptyForm(formdata=None),
        "tokens": tokens,
        "new_token": None,
    }
    context.update(forms)
    return render_template("accounts/account.html", **context), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/profile")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(422, profile_form=form)
    services.update_profile(current_user, form.name.data)
    flash("Your name is saved.", "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _account_page(422, password_form=form)
    user = current_user._get_current_object()
    try:
        services.change_password(user, form.current_password.data, form.new_password.data)
    except DomainError as exc:
        return _account_page(show_error(form, exc), password_form=form)
    login_user(user)
    flash(SESSIONS_ENDED_NOTICE, "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _account_page(422, token_form=form)
    expires_at = None
    if form.expires_on.data:
        expires_at = datetime.combine(form.expires_on.data, time.max, tzinfo=UTC)
    try:
        token, raw = services.create_api_token(current_user, form.name.data, expires_at)
    except DomainError as exc:
        return _account_page(show_error(form, exc), token_form=form)
    # Shown once, on this page, and never again.
    return _account_page(201, new_token={"name": token.name, "token": raw})


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    form = EmptyForm()
    if form.validate_on_submit():
        services.revoke_api_token(current_user, token_id)
        flash("The token is revoked.", "success")
    return redirect(url_for("accounts.account"))
