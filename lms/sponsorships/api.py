"""JSON API: plans, sponsors, checkout and portal, invoice and manual sponsorships, impact;
and the Stripe webhook endpoint."""

from flask import Blueprint as FlaskBlueprint
from flask import current_app, request

from lms.core.api import Blueprint, SQLAlchemyPage
from lms.core.auth import authenticated_user, login_required, platform_admin_required, public
from lms.core.errors import BadRequest
from lms.core.inputs import InvalidJson, loads_json
from lms.sponsorships import billing, gateway, impact, services, webhooks
from lms.sponsorships.schemas import (
    AdminInvitationIn,
    AdminInvitationOut,
    CheckoutIn,
    CheckoutOut,
    EmptyIn,
    EndSponsorshipIn,
    ImpactOut,
    ImpactQuery,
    InvoiceSponsorshipIn,
    ManualSponsorshipIn,
    PlanOut,
    SponsorIn,
    SponsorOut,
    SponsorshipOut,
    UrlOut,
)

blp = Blueprint(
    "sponsorships_api", __name__, url_prefix="/api/v1", description="Sponsors and sponsorships"
)


def _sponsor_url(sponsor_id: int, page: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/sponsors/{sponsor_id}/{page}"


@blp.route("/sponsorship-plans", methods=["GET"])
@public
@blp.response(200, PlanOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_plans():
    """Sponsorship plans on offer (public)"""
    return services.active_plans()


@blp.route("/sponsors", methods=["POST"])
@login_required
@blp.links(
    201,
    getSponsor=("getSponsor", {"sponsor_id": "$response.body#/id"}),
    listSponsorships=("listSponsorships", {"sponsor_id": "$response.body#/id"}),
)
@blp.arguments(SponsorIn)
@blp.response(201, SponsorOut)
def create_sponsor(data):
    """Create a sponsor; you become its admin"""
    return services.create_sponsor(authenticated_user(), data)


@blp.route("/sponsors", methods=["GET"])
@login_required
@blp.response(200, SponsorOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_sponsors():
    """Sponsors I administer (platform admins: all)"""
    return services.sponsors_for(authenticated_user())


@blp.route("/sponsors/<id:sponsor_id>", methods=["GET"])
@login_required
@blp.response(200, SponsorOut)
def get_sponsor(sponsor_id):
    """A sponsor I administer"""
    return services.get_sponsor(sponsor_id, authenticated_user())


@blp.route("/sponsors/<id:sponsor_id>/checkout", methods=["POST"])
@login_required
@blp.arguments(CheckoutIn)
@blp.response(201, CheckoutOut)
@blp.error_responses(403, 409, 502)
def start_checkout(data, sponsor_id):
    """Start a card payment in Stripe Checkout; returns the page to send the sponsor to"""
    sponsor = services.require_sponsor_admin(sponsor_id, authenticated_user())
    return billing.start_checkout(
        sponsor,
        plan_slug=data["plan"],
        organization_slug=data["organization"],
        seats=data["seats"],
        success_url=_sponsor_url(sponsor.id, "checkout/success?session_id={CHECKOUT_SESSION_ID}"),
        cancel_url=_sponsor_url(sponsor.id, "checkout/cancel"),
    )


@blp.route("/sponsors/<id:sponsor_id>/portal", methods=["POST"])
@login_required
@blp.arguments(EmptyIn)
@blp.response(201, UrlOut)
@blp.error_responses(403, 409, 502)
def open_portal(data, sponsor_id):
    """A Stripe Customer Portal session for the sponsor's billing"""
    sponsor = services.require_sponsor_admin(sponsor_id, authenticated_user())
    return {"url": billing.portal_url(sponsor, _sponsor_url(sponsor.id, ""))}


@blp.route("/sponsors/<id:sponsor_id>/sponsorships", methods=["GET"])
@login_required
@blp.response(200, SponsorshipOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_sponsorships(sponsor_id):
    """The sponsor's sponsorships, newest first"""
    return services.sponsorships_query(services.get_sponsor(sponsor_id, authenticated_user()))


@blp.route("/sponsors/<id:sponsor_id>/invoice-sponsorships", methods=["POST"])
@platform_admin_required
@blp.arguments(InvoiceSponsorshipIn)
@blp.response(201, SponsorshipOut)
@blp.error_responses(409, 502)
def create_invoice_sponsorship(data, sponsor_id):
    """A subscription paid by invoice with net terms (platform admins); Stripe mails it"""
    user = authenticated_user()
    sponsor = services.get_sponsor(sponsor_id, user)
    return billing.create_invoice_sponsorship(
        sponsor,
        user,
        plan_slug=data["plan"],
        organization_slug=data["organization"],
        seats=data["seats"],
        days_until_due=data["days_until_due"],
    )


@blp.route("/sponsors/<id:sponsor_id>/manual-sponsorships", methods=["POST"])
@platform_admin_required
@blp.arguments(ManualSponsorshipIn)
@blp.response(201, SponsorshipOut)
@blp.error_responses(409)
def record_manual_sponsorship(data, sponsor_id):
    """Record a sponsorship paid outside Stripe (platform admins)"""
    user = authenticated_user()
    sponsor = services.get_sponsor(sponsor_id, user)
    return services.record_manual_sponsorship(
        sponsor,
        user,
        organization_slug=data["organization"],
        plan_slug=data["plan"],
        seats=data["seats"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        note=data["note"],
    )


@blp.route("/sponsors/<id:sponsor_id>/sponsorships/<id:sponsorship_id>/end", methods=["POST"])
@platform_admin_required
@blp.arguments(EndSponsorshipIn)
@blp.response(200, SponsorshipOut)
@blp.error_responses(409)
def end_sponsorship(data, sponsor_id, sponsorship_id):
    """End a manual sponsorship now (platform admins); nobody loses progress"""
    user = authenticated_user()
    sponsorship = services.get_sponsorship(services.get_sponsor(sponsor_id, user), sponsorship_id)
    return services.end_manual_sponsorship(sponsorship, user, data["reason"])


@blp.route(
    "/sponsors/<id:sponsor_id>/admin-invitations",
    methods=["POST"],
    operation_id="inviteSponsorAdmin",
)
@login_required
@blp.arguments(AdminInvitationIn)
@blp.response(201, AdminInvitationOut)
@blp.error_responses(403, 409)
def invite_admin(data, sponsor_id):
    """Invite another admin of the sponsor (the link goes by mail)"""
    user = authenticated_user()
    sponsor = services.require_sponsor_admin(sponsor_id, user)
    return services.invite_admin(sponsor, user, data["email"])


@blp.route("/sponsor-invitations/<token>/accept", methods=["POST"])
@login_required
@blp.arguments(EmptyIn)
@blp.response(200, SponsorOut)
@blp.error_responses(403, 409, 410)
def accept_admin_invitation(data, token):
    """Accept an invitation to administer a sponsor (as the invited, logged-in person)"""
    return services.accept_admin_invitation(token, authenticated_user())


@blp.route("/sponsors/<id:sponsor_id>/impact", methods=["GET"], operation_id="getSponsorImpact")
@login_required
@blp.also_csv()
@blp.arguments(ImpactQuery, location="query")
@blp.response(200, ImpactOut)
def sponsor_impact(query, sponsor_id):
    """Counts only, per funded organization and course; cells under 5 learners suppressed.
    ``?format=csv`` for a spreadsheet"""
    sponsor = services.get_sponsor(sponsor_id, authenticated_user())
    report = impact.impact_report(sponsor)
    if query["format"] == "csv":
        return current_app.response_class(
            impact.impact_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="impact-{sponsor.id}.csv"'},
        )
    return report


# -- the Stripe webhook ----------------------------------------------------------------------

webhook_bp = FlaskBlueprint("stripe_webhook", __name__)


@webhook_bp.post("/stripe/webhook")
def stripe_webhook():
    """Stripe's events: signed with the endpoint secret, applied once, in any order."""
    request.max_content_length = webhooks.max_body_bytes()  # larger: 413 before it is read
    payload = request.get_data(cache=False)
    gateway.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    try:
        event = loads_json(payload)
    except InvalidJson as exc:
        raise BadRequest(f"The webhook body is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise BadRequest("The webhook body is not a Stripe event.")
    outcome = webhooks.process_event(event)
    return {"received": True, "event": outcome.event_id, "result": outcome.result}
