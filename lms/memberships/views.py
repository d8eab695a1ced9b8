"""HTML pages: the OSPO admin dashboard, members, invitations and CSV enrollment; platform
admin pages for organizations and seat grants; the invitation acceptance page."""

from datetime import UTC, datetime, time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user

from lms.core.errors import DomainError, NotFound
from lms.core.forms import EmptyForm, show_error
from lms.core.inputs import MAX_PAGE, query_int
from lms.core.uploads import read_upload
from lms.memberships import acceptance, csv_enrollment, invitations, logos, reads, services
from lms.memberships.forms import (
    AcceptForm,
    CsvForm,
    GrantForm,
    InviteForm,
    LogoForm,
    OrganizationForm,
    RoleForm,
    SeatForm,
)

bp = Blueprint("memberships", __name__, template_folder="templates")


def _org(slug: str, admin: bool = True):
    return services.get_organization(slug, current_user._get_current_object(), admin=admin)


def _require_platform_admin():
    if not current_user.is_platform_admin:
        abort(403)


def _dashboard(organization, status=200, **forms):
    search = request.args.get("q", "").strip()
    page = query_int("page", 1, maximum=MAX_PAGE)
    dashboard = reads.organization_dashboard(organization, search=search, page=page)
    context = {
        "organization": organization,
        "summary": dashboard.summary,
        "members": dashboard.members,
        "has_next": dashboard.page.has_next,
        "page": page,
        "search": search,
        "pending": dashboard.pending,
        "logo": dashboard.logo,
        "logo_form": LogoForm(formdata=None),
        "invite_form": InviteForm(formdata=None),
        "csv_form": CsvForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "role_form": RoleForm(formdata=None),
        "seat_form": SeatForm(formdata=None),
        "csv_report": None,
    }
    context.update(forms)
    return render_template("memberships/dashboard.html", **context), status


@bp.get("/organizations")
@login_required
def organization_list():
    orgs = services.list_organizations(current_user)
    if len(orgs) == 1 and not current_user.is_platform_admin:
        return redirect(url_for("memberships.dashboard", slug=orgs[0].slug))
    return render_template(
        "memberships/organizations.html", organizations=orgs, form=OrganizationForm(formdata=None)
    )


@bp.post("/organizations")
@login_required
def create_organization():
    _require_platform_admin()
    form = OrganizationForm()
    status = 422
    if form.validate_on_submit():
        try:
            organization = services.create_organization(current_user, form.data_for_service())
        except DomainError as exc:
            status = show_error(form, exc)  # a taken slug is 409, as on the API
        else:
            flash(f"{organization.name} is created. Record its seats next.", "success")
            return redirect(url_for("memberships.dashboard", slug=organization.slug))
    orgs = services.list_organizations(current_user)
    return render_template("memberships/organizations.html", organizations=orgs, form=form), status


@bp.get("/organizations/<slug>")
@login_required
def dashboard(slug: str):
    return _dashboard(_org(slug))


@bp.post("/organizations/<slug>/invitations")
@login_required
def invite(slug: str):
    organization = _org(slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invitations.invite(
                organization,
                current_user,
                email=form.email.data,
                role=form.role.data,
                name=form.name.data or "",
                courses=form.course_list(),
            )
        except DomainError as exc:
            form.form_errors.append(exc.message)
            return _dashboard(organization, exc.code, invite_form=form)
        flash(f"Invitation sent to {invitation.email}.", "success")
        return redirect(url_for("memberships.dashboard", slug=slug))
    return _dashboard(organization, 422, invite_form=form)


@bp.post("/organizations/<slug>/invitations/import")
@login_required
def import_csv(slug: str):
    organization = _org(slug)
    form = CsvForm()
    if not form.validate_on_submit():
        return _dashboard(organization, 422, csv_form=form)
    try:
        data = read_upload(
            form.file.data, current_app.config["INVITATION_CSV_MAX_BYTES"], "CSV files"
        )
    except DomainError as exc:
        form.file.errors = [exc.message]
        return _dashboard(organization, exc.code, csv_form=form)
    try:
        report = csv_enrollment.import_csv(
            organization, current_user, data, dry_run=form.dry_run.data
        )
    except DomainError as exc:
        form.form_errors.append(exc.message)
        for problem in (exc.errors or {}).get("header", []):
            form.form_errors.append(problem)
        return _dashboard(organization, exc.code, csv_form=form)
    return _dashboard(organization, csv_report=report)


@bp.post("/organizations/<slug>/invitations/<code>/revoke")
@login_required
def revoke_invitation(slug: str, code: str):
    organization = _org(slug)
    if EmptyForm().validate_on_submit():
        try:
            invitations.revoke_invitation(organization, code)
            flash("The invitation is withdrawn.", "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.post("/organizations/<slug>/logo")
@login_required
def upload_logo(slug: str):
    organization = _org(slug)
    form = LogoForm()
    if not form.validate_on_submit():
        return _dashboard(organization, 422, logo_form=form)
    try:
        logos.set_logo(organization, current_user, logos.read_logo_file(form.file.data))
    except DomainError as exc:
        form.file.errors = [exc.message]
        return _dashboard(organization, exc.code, logo_form=form)
    flash("The logo is saved: certificates rendered from now on show it.", "success")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.post("/organizations/<slug>/logo/remove")
@login_required
def remove_logo(slug: str):
    organization = _org(slug)
    if EmptyForm().validate_on_submit() and logos.remove_logo(organization):
        flash("The logo is removed: certificates rendered from now on have none.", "success")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.get("/organizations/<slug>/logo.png")
@login_required
def logo(slug: str):
    """The organization's logo, for its members and platform admins (404 for anyone else)."""
    stored = logos.get_logo(_org(slug, admin=False))
    if stored is None:
        raise NotFound("This organization has no logo.")
    response = Response(stored.png, mimetype="image/png")
    response.set_etag(stored.sha256)
    # Only for signed-in members: private caches only; revalidated with the ETag after 5 min.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response.make_conditional(request)


@bp.post("/organizations/<slug>/members/<id:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int):
    organization = _org(slug)
    if EmptyForm().validate_on_submit():
        member = services.get_member(organization, user_id)
        try:
            services.remove_member(organization, member)
            flash(f"{member.user.name} is removed; their progress is kept.", "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.post("/organizations/<slug>/members/<id:user_id>/role")
@login_required
def change_role(slug: str, user_id: int):
    organization = _org(slug)
    form = RoleForm()
    if form.validate_on_submit():
        member = services.get_member(organization, user_id)
        try:
            services.change_member_role(organization, member, form.role.data)
            flash(f"{member.user.name} is now {form.role.data}.", "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.post("/organizations/<slug>/members/<int:user_id>/seat")
@login_required
def change_seat(slug: str, user_id: int):
    """An admin takes a learner seat to learn, or releases it."""
    organization = _org(slug)
    form = SeatForm()
    if form.validate_on_submit():
        member = services.get_member(organization, user_id)
        try:
            services.set_learner_seat(organization, member, form.learner_seat.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            name = member.user.name
            if form.learner_seat.data:
                flash(f"{name} holds a learner seat and can learn.", "success")
            else:
                flash(f"{name}'s learner seat is free again; their progress is kept.", "success")
    return redirect(url_for("memberships.dashboard", slug=slug))


@bp.route("/organizations/<slug>/seat-grants", methods=["GET", "POST"])
@login_required
def grants(slug: str):
    _require_platform_admin()
    organization = _org(slug)
    form = GrantForm()
    status = 200
    if form.validate_on_submit():
        start = datetime.combine(form.starts_on.data, time.min, tzinfo=UTC)
        end = datetime.combine(form.ends_on.data, time.min, tzinfo=UTC)
        try:
            services.record_grant(
                organization,
                current_user,
                seats=form.seats.data,
                starts_at=start,
                ends_at=end,
                note=form.note.data or "",
            )
        except DomainError as exc:
            form.form_errors.append(exc.message)
            status = exc.code
        else:
            flash(f"{form.seats.data} seats recorded.", "success")
            return redirect(url_for("memberships.grants", slug=slug))
    elif form.is_submitted():
        status = 422
    page = reads.seat_grants_page(organization)
    return render_template(
        "memberships/grants.html",
        organization=organization,
        summary=page.summary,
        ledger=page.ledger,
        form=form,
    ), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token: str):
    try:
        invitation = acceptance.find_invitation(token)
    except DomainError as exc:
        return render_template("memberships/invitation_invalid.html", message=exc.message), exc.code
    logged_in = current_user.is_authenticated
    holder = acceptance.account_holding(invitation)
    # An unconfirmed account on the address is taken over with a name and a new password.
    claim = holder is not None and not holder.email_verified
    user = current_user._get_current_object() if logged_in else None
    if claim:
        needs_password = not logged_in or current_user.email == invitation.email
    else:
        needs_password = holder is None and not logged_in
    form = AcceptForm() if needs_password else EmptyForm()
    status = 200
    if form.validate_on_submit():
        try:
            if needs_password:
                accepted = acceptance.accept_invitation(
                    token, user, name=form.name.data, password=form.password.data
                )
            else:
                accepted = acceptance.accept_invitation(token, user)
        except DomainError as exc:
            form.form_errors.append(exc.message)
            status = exc.code
        else:
            if accepted.created_account or accepted.claimed_account:
                login_user(accepted.user)
            if accepted.claimed_account:
                flash(
                    "The account is yours now: its other sessions were logged out and its API "
                    "tokens revoked.",
                    "success",
                )
            flash(f"Welcome to {invitation.organization.name}!", "success")
            return redirect(url_for("web.start"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "memberships/accept.html",
        invitation=invitation,
        form=form,
        logged_in=logged_in,
        needs_password=needs_password,
        claim=claim,
        holder_exists=holder is not None,
    ), status
