"""Who may use what, for the header and for the page each person lands on after logging in.

The web package sits above the others, so it may read memberships and sponsorships; the
earlier packages only name the ``web.start`` endpoint.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for

from lms.core.extensions import db
from lms.memberships.models import MemberRole, MemberStatus, Organization, OrganizationMember
from lms.sponsorships.models import Sponsor, SponsorAdmin

MAX_LINKS = 3  # more organizations or sponsors than this: one link to the list instead


@dataclass
class Place:
    name: str
    url: str


@dataclass
class Navigation:
    """What the header offers a signed-in person."""

    is_platform_admin: bool = False
    organizations: list[Place] = field(default_factory=list)  # the ones they administer
    sponsors: list[Place] = field(default_factory=list)  # the ones they administer


def navigation_for(user) -> Navigation:
    """One statement; the header reads it once per page."""
    # One statement for both (the header is on every page): the organizations they
    # administer and the sponsors they administer, a few of each.
    organizations = (
        sa.select(
            sa.literal("organization").label("kind"),
            Organization.slug.label("key"),
            Organization.name.label("name"),
        )
        .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
        .where(
            OrganizationMember.user_id == user.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.role == MemberRole.ADMIN,
        )
        .order_by(Organization.name, Organization.id)
        .limit(MAX_LINKS + 1)
    )
    sponsors = (
        sa.select(
            sa.literal("sponsor").label("kind"),
            sa.cast(Sponsor.id, sa.String).label("key"),
            Sponsor.name.label("name"),
        )
        .join(SponsorAdmin, SponsorAdmin.sponsor_id == Sponsor.id)
        .where(SponsorAdmin.user_id == user.id)
        .order_by(Sponsor.name, Sponsor.id)
        .limit(MAX_LINKS + 1)
    )
    rows = db.session.execute(
        sa.union_all(organizations.subquery().select(), sponsors.subquery().select())
    ).all()
    administered = sorted((r.name, r.key) for r in rows if r.kind == "organization")
    sponsored = sorted((r.name, int(r.key)) for r in rows if r.kind == "sponsor")
    navigation = Navigation(
        is_platform_admin=bool(user.is_platform_admin),
        organizations=[
            Place(name, url_for("memberships.dashboard", slug=slug)) for name, slug in administered
        ],
        sponsors=[
            Place(name, url_for("sponsorships.impact_page", sponsor_id=sponsor_id))
            for name, sponsor_id in sponsored
        ],
    )
    return navigation


def landing_url(user) -> str:
    """Where a person starts: platform admins at the organizations (and courses), OSPO admins
    at their first organization's dashboard, sponsor admins at their sponsor's impact page,
    everyone else at their courses."""
    navigation = navigation_for(user)
    if navigation.is_platform_admin:
        return url_for("memberships.organization_list")
    if navigation.organizations:
        return navigation.organizations[0].url
    if navigation.sponsors:
        return navigation.sponsors[0].url
    return url_for("progress.dashboard")


def send_to_login():
    """Flask-Login's answer to an anonymous visit (or an expired session) on a page that
    needs a login: the login page, then back. A GET comes back to its own address; a form
    sent after the session ended comes back to the page it was sent from (its address only
    accepts POST)."""
    from flask import flash, redirect, request
    from flask_login import login_url

    from lms.core.urls import same_origin_referrer

    flash("Log in to see this page.", "info")
    if request.method in ("GET", "HEAD"):
        return redirect(login_url("accounts.login", next_url=request.url))
    back = same_origin_referrer()
    return redirect(url_for("accounts.login", next=back) if back else url_for("accounts.login"))
