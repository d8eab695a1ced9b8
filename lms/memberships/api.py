"""JSON API: organizations, membership and seat grants, members, invitations, CSV enrollment."""

from flask import current_app
from flask_login import current_user, login_user

from lms.core.api import Blueprint, SQLAlchemyPage
from lms.core.auth import (
    authenticated_user,
    login_optional,
    login_required,
    platform_admin_required,
)
from lms.core.uploads import read_upload
from lms.memberships import acceptance, csv_enrollment, invitations, logos, services
from lms.memberships.schemas import (
    AcceptIn,
    AcceptOut,
    CsvFiles,
    CsvQuery,
    CsvReportOut,
    InvitationIn,
    InvitationOut,
    InvitationQuery,
    LedgerEventOut,
    LogoFiles,
    LogoOut,
    MemberOut,
    MemberPatchIn,
    MemberQuery,
    MembershipOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatchIn,
    SeatGrantChangeIn,
    SeatGrantIn,
    SeatGrantOut,
)

blp = Blueprint(
    "memberships_api", __name__, url_prefix="/api/v1", description="Organizations and seats"
)


def _org(slug: str, *, admin: bool = False):
    return services.get_organization(slug, authenticated_user(), admin=admin)


# -- organizations ----------------------------------------------------------------------


# A created organization's slug, for the OpenAPI links to what a client does next with it.
ORGANIZATION_SLUG = {"slug": "$response.body#/slug"}


@blp.route("/organizations", methods=["GET"])
@login_required
@blp.response(200, OrganizationOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_organizations():
    """Organizations I belong to (platform admins: all)"""
    return services.organizations_for(authenticated_user())


@blp.route("/organizations", methods=["POST"])
@platform_admin_required
@blp.error_responses(409)
@blp.links(
    201,
    getOrganization=("getOrganization", ORGANIZATION_SLUG),
    createSeatGrant=("createSeatGrant", ORGANIZATION_SLUG),
    createInvitation=("createInvitation", ORGANIZATION_SLUG),
    listMembers=("listMembers", ORGANIZATION_SLUG),
)
@blp.arguments(OrganizationIn)
@blp.response(201, OrganizationOut)
def create_organization(data):
    """Create an organization (platform admins)"""
    return services.create_organization(authenticated_user(), data)


@blp.route("/organizations/<slug>", methods=["GET"])
@login_required
@blp.response(200, OrganizationOut)
def get_organization(slug):
    """An organization I belong to"""
    return _org(slug)


@blp.route("/organizations/<slug>", methods=["PATCH"])
@platform_admin_required
@blp.arguments(OrganizationPatchIn)
@blp.response(200, OrganizationOut)
def update_organization(data, slug):
    """Edit an organization (platform admins)"""
    return services.update_organization(_org(slug), data)


@blp.route("/organizations/<slug>/logo", methods=["PUT"])
@login_required
@blp.error_responses(403)
@blp.arguments(LogoFiles, location="files")
@blp.response(200, LogoOut)
def upload_organization_logo(files, slug):
    """Upload the organization's logo for its certificates (its admins and platform admins)

    PNG or JPEG only; re-encoded as a PNG that fits the logo box, metadata dropped. Anything
    else (another format, too many bytes or pixels, a damaged file) is a 422 and nothing is
    stored. Certificates rendered from now on show it.
    """
    organization = _org(slug, admin=True)
    data = logos.read_logo_file(files["file"])
    return logos.set_logo(organization, authenticated_user(), data)


@blp.route("/organizations/<slug>/logo", methods=["DELETE"])
@login_required
@blp.error_responses(403)
@blp.response(204)
def delete_organization_logo(slug):
    """Remove the organization's logo (certificates rendered from now on have none)"""
    logos.remove_logo(_org(slug, admin=True))


# -- membership and seat grants ---------------------------------------------------------


@blp.route("/organizations/<slug>/membership", methods=["GET"])
@login_required
@blp.error_responses(403)
@blp.response(200, MembershipOut)
def get_membership(slug):
    """Seats total / used / free, the grants, the term and the status"""
    organization = _org(slug, admin=True)
    summary = services.seat_summary(organization)
    summary.organization = organization.slug
    return summary


@blp.route("/organizations/<slug>/seat-grants", methods=["POST"])
@platform_admin_required
@blp.arguments(SeatGrantIn)
@blp.response(201, SeatGrantOut)
def create_seat_grant(data, slug):
    """Record an invoice-paid (manual) seat grant (platform admins)"""
    return services.record_grant(_org(slug), authenticated_user(), **data)


@blp.route("/organizations/<slug>/seat-grants/<id:grant_id>", methods=["PATCH"])
@platform_admin_required
@blp.arguments(SeatGrantChangeIn)
@blp.response(200, SeatGrantOut)
def change_seat_grant(data, slug, grant_id):
    """Change a grant's seats or end date, with the reason (kept in the ledger)"""
    organization = _org(slug)
    grant = services.get_grant(organization, grant_id)
    return services.change_grant(grant, authenticated_user(), **data)


@blp.route(
    "/organizations/<slug>/seat-grants/ledger", methods=["GET"], operation_id="getSeatGrantLedger"
)
@login_required
@blp.error_responses(403)
@blp.response(200, LedgerEventOut(many=True))
@blp.paginate(SQLAlchemyPage)
def seat_grant_ledger(slug):
    """Every change to the organization's seat grants: what, who, why (newest first)"""
    return services.grant_ledger(_org(slug, admin=True))


# -- members ----------------------------------------------------------------------------


@blp.route("/organizations/<slug>/members", methods=["GET"])
@login_required
@blp.error_responses(403)
@blp.arguments(MemberQuery, location="query")
@blp.response(200, MemberOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_members(query, slug):
    """Members, with search by name or email, and filters by role and status"""
    return services.members_query(_org(slug, admin=True), **query)


@blp.route("/organizations/<slug>/members/<id:user_id>", methods=["PATCH"])
@login_required
@blp.error_responses(403, 409)
@blp.arguments(MemberPatchIn)
@blp.response(200, MemberOut)
def update_member(data, slug, user_id):
    """Change a member's role or learner seat (the last admin stays an admin)"""
    organization = _org(slug, admin=True)
    member = services.get_member(organization, user_id)
    return services.update_member(organization, member, **data)


@blp.route("/organizations/<slug>/members/<id:user_id>", methods=["DELETE"])
@login_required
@blp.error_responses(403, 409)
@blp.response(204)
def remove_member(slug, user_id):
    """Remove a member: frees the seat; progress and certificates are kept"""
    organization = _org(slug, admin=True)
    services.remove_member(organization, services.get_member(organization, user_id))


# -- invitations ------------------------------------------------------------------------


@blp.route("/organizations/<slug>/invitations", methods=["GET"])
@login_required
@blp.error_responses(403)
@blp.arguments(InvitationQuery, location="query")
@blp.response(200, InvitationOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_invitations(query, slug):
    """Invitations (pending by default)"""
    status = None if query["status"] == "all" else query["status"]
    return invitations.invitations_query(_org(slug, admin=True), status)


@blp.route("/organizations/<slug>/invitations", methods=["POST"])
@login_required
@blp.error_responses(403, 409)
@blp.arguments(InvitationIn)
@blp.response(201, InvitationOut)
def create_invitation(data, slug):
    """Invite someone by email (the link goes by mail)"""
    return invitations.invite(_org(slug, admin=True), authenticated_user(), **data)


@blp.route("/organizations/<slug>/invitations/<code>", methods=["DELETE"])
@login_required
@blp.error_responses(403, 409)
@blp.response(204)
def revoke_invitation(slug, code):
    """Withdraw a pending invitation"""
    invitations.revoke_invitation(_org(slug, admin=True), code)


@blp.route("/organizations/<slug>/invitations/import", methods=["POST"])
@login_required
@blp.error_responses(403)
@blp.arguments(CsvQuery, location="query")
@blp.arguments(CsvFiles, location="files")
@blp.response(200, CsvReportOut)
def import_invitations(query, files, slug):
    """Invite from a CSV (email,name,role,courses); every row gets a result; ?dry_run=true"""
    organization = _org(slug, admin=True)
    data = read_upload(files["file"], current_app.config["INVITATION_CSV_MAX_BYTES"], "CSV files")
    report = csv_enrollment.import_csv(
        organization, authenticated_user(), data, dry_run=query["dry_run"]
    )
    return report


@blp.route("/invitations/<token>/accept", methods=["POST"])
@login_optional
@blp.error_responses(403, 409, 410)
@blp.arguments(AcceptIn, required=False)
@blp.response(200, AcceptOut)
def accept_invitation(data, token):
    """Accept an invitation: {} when logged in, {name, password} for a new person

    When an unconfirmed account uses the invitation's address, {name, password} are required
    (logged in or not) and take that account over: its password is replaced, its other
    sessions are logged out and its API tokens revoked (`claimed_account` is true).
    """
    user = current_user._get_current_object() if current_user.is_authenticated else None
    accepted = acceptance.accept_invitation(token, user, **data)
    if accepted.created_account or accepted.claimed_account:
        login_user(accepted.user)
    return accepted
