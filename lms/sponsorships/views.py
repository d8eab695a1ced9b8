"""HTML pages: the public plans page, a sponsor's page (checkout, portal, sponsorships), the
checkout success and cancel pages, the impact report, and accepting an admin invitation."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange

from lms.core.db import utcnow
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm, SchemaField
from lms.sponsorships import billing, gateway, impact, services
from lms.sponsorships.schemas import CheckoutIn

bp = Blueprint("sponsorships", __name__, template_folder="templates")


class CheckoutForm(FlaskForm):
    plan = SelectField("Plan", validators=[InputRequired()])
    organization = StringField(
        "Organization to fund (its short name, as in /organizations/<name>)",
        validators=[
            InputRequired(),
            SchemaField(CheckoutIn, "organization"),  # the API's rule, written once
        ],
    )
    seats = IntegerField("Seats", validators=[InputRequired(), NumberRange(min=1, max=100_000)])


def _user():
    return current_user._get_current_object()


def _checkout_form(*, blank: bool = False) -> CheckoutForm:
    form = CheckoutForm(formdata=None) if blank else CheckoutForm()
    plans = services.plans_shown()
    form.plan.choices = [(p.slug, f"{p.name} (at least {p.min_seats} seats)") for p in plans]
    return form


def _sponsor_page(sponsor, status=200, form=None):
    sponsorships = services.recent_sponsorships(sponsor)
    return render_template(
        "sponsorships/sponsor.html",
        sponsor=sponsor,
        sponsorships=sponsorships,
        billing=gateway.is_configured(),
        is_admin=services.is_sponsor_admin(sponsor, _user()),
        form=form or _checkout_form(blank=True),
        button_form=EmptyForm(formdata=None),
    ), status


@bp.get("/sponsorship-plans")
def plans():
    return render_template(
        "sponsorships/plans.html",
        plans=services.plans_shown(),
        billing=gateway.is_configured(),
    )


@bp.get("/sponsors")
@login_required
def sponsor_list():
    sponsors = services.sponsors_shown(_user())
    return render_template("sponsorships/sponsors.html", sponsors=sponsors)


@bp.get("/sponsors/<id:sponsor_id>")
@login_required
def sponsor(sponsor_id: int):
    return _sponsor_page(services.get_sponsor(sponsor_id, _user()))


@bp.post("/sponsors/<id:sponsor_id>/checkout")
@login_required
def checkout(sponsor_id: int):
    sponsor = services.require_sponsor_admin(sponsor_id, _user())
    form = _checkout_form()
    if not form.validate_on_submit():
        return _sponsor_page(sponsor, 422, form)
    base = current_app.config["BASE_URL"].rstrip("/")
    try:
        started = billing.start_checkout(
            sponsor,
            plan_slug=form.plan.data,
            organization_slug=form.organization.data,
            seats=form.seats.data,
            success_url=f"{base}/sponsors/{sponsor.id}/checkout/success"
            "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=f"{base}/sponsors/{sponsor.id}/checkout/cancel",
        )
    except DomainError as exc:
        form.form_errors.append(exc.message)
        for name, messages in (exc.errors or {}).items():
            if name in form:
                form[name].errors = list(form[name].errors) + list(messages)
        return _sponsor_page(sponsor, exc.code, form)
    return redirect(started.url, code=303)


@bp.post("/sponsors/<id:sponsor_id>/portal")
@login_required
def portal(sponsor_id: int):
    sponsor = services.require_sponsor_admin(sponsor_id, _user())
    if not EmptyForm().validate_on_submit():
        return _sponsor_page(sponsor, 400)
    base = current_app.config["BASE_URL"].rstrip("/")
    try:
        url = billing.portal_url(sponsor, f"{base}/sponsors/{sponsor.id}")
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sponsorships.sponsor", sponsor_id=sponsor.id))
    return redirect(url, code=303)


@bp.get("/sponsors/<id:sponsor_id>/checkout/success")
@login_required
def checkout_success(sponsor_id: int):
    # Nothing is granted here: the webhooks grant once Stripe confirms the subscription.
    sponsor = services.get_sponsor(sponsor_id, _user())
    return render_template("sponsorships/checkout_done.html", sponsor=sponsor, success=True)


@bp.get("/sponsors/<id:sponsor_id>/checkout/cancel")
@login_required
def checkout_cancel(sponsor_id: int):
    sponsor = services.get_sponsor(sponsor_id, _user())
    return render_template("sponsorships/checkout_done.html", sponsor=sponsor, success=False)


@bp.get("/sponsors/<id:sponsor_id>/impact")
@login_required
def impact_page(sponsor_id: int):
    sponsor = services.get_sponsor(sponsor_id, _user())
    report = impact.impact_report(sponsor)
    return render_template(
        "sponsorships/impact.html",
        sponsor=sponsor,
        report=report,
        bars=impact.chart_bars(report.months),
        certificates_wired=impact.count_certificates is not None,
        generated_at=utcnow(),
    )


@bp.get("/sponsors/<id:sponsor_id>/impact.csv")
@login_required
def impact_csv(sponsor_id: int):
    sponsor = services.get_sponsor(sponsor_id, _user())
    return current_app.response_class(
        impact.impact_csv(impact.impact_report(sponsor)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="impact-{sponsor.id}.csv"'},
    )


@bp.route("/sponsor-invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            sponsor = services.accept_admin_invitation(token, _user())
        except DomainError as exc:
            return render_template(
                "sponsorships/accept.html", form=form, error=exc.message
            ), exc.code
        flash(f"You are now an admin of {sponsor.name}.", "success")
        return redirect(url_for("sponsorships.sponsor", sponsor_id=sponsor.id))
    return render_template("sponsorships/accept.html", form=form, error=None)
