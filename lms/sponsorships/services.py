"""Sponsors, their admins, plans, checkout, invoice and manual sponsorships. No HTTP here.

A sponsor's objects are reached through ``get_sponsor``: its admins and platform admins see
it, everyone else gets a 404, so another sponsor's figures are never confirmed to exist.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict, Forbidden, Gone, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.mail import send_mail
from lms.core.tokens import hash_secret, new_secret
from lms.memberships.models import Organization
from lms.sponsorships import gateway
from lms.sponsorships.models import (
    Sponsor,
    SponsorAdmin,
    SponsorInvitation,
    SponsorInvitationStatus,
    Sponsorship,
    SponsorshipPlan,
    SponsorshipSource,
    SponsorshipStatus,
)
from lms.sponsorships.seats import KEEPS_SEATS, apply_seats

INVITATION_TTL = timedelta(days=14)

# -- plans ----------------------------------------------------------------------------------


def active_plans() -> sa.Select:
    return (
        sa.select(SponsorshipPlan)
        .where(SponsorshipPlan.is_active == sa.true())
        .order_by(SponsorshipPlan.unit_amount, SponsorshipPlan.id)
    )


def plan_by_slug(slug: str) -> SponsorshipPlan | None:
    return db.session.scalar(sa.select(SponsorshipPlan).where(SponsorshipPlan.slug == slug))


def save_plan(data: dict) -> SponsorshipPlan:
    """Create the plan with this slug, or update it (used by seeding and tests)."""
    plan = plan_by_slug(data["slug"])
    if plan is None:
        plan = SponsorshipPlan(**data)
        db.session.add(plan)
    else:
        for key, value in data.items():
            setattr(plan, key, value)
    db.session.flush()
    return plan


@dataclass
class PlanSync:
    plan: SponsorshipPlan
    changes: list[str]


def sync_plans() -> list[PlanSync]:
    """Create or update each plan's Stripe Product and Price and store their ids. Running it
    again with nothing changed changes nothing."""
    results = []
    plans = db.session.scalars(sa.select(SponsorshipPlan).order_by(SponsorshipPlan.id)).all()
    for plan in plans:
        product_id, price_id, changes = gateway.sync_plan(plan)
        plan.stripe_product_id, plan.stripe_price_id = product_id, price_id
        results.append(PlanSync(plan, changes))
    db.session.flush()
    return results


# -- sponsors and their admins ----------------------------------------------------------------


def create_sponsor(actor: User, data: dict) -> Sponsor:
    """A new sponsor, with ``actor`` as its first admin."""
    sponsor = Sponsor(**data, created_by_id=actor.id)
    db.session.add(sponsor)
    db.session.flush()
    db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=actor.id))
    db.session.flush()
    return sponsor


def is_sponsor_admin(sponsor: Sponsor, user: User) -> bool:
    return (
        db.session.scalar(
            sa.select(SponsorAdmin.id).where(
                SponsorAdmin.sponsor_id == sponsor.id, SponsorAdmin.user_id == user.id
            )
        )
        is not None
    )


def get_sponsor(sponsor_id: int, actor: User, *, admin_only: bool = False) -> Sponsor:
    """The sponsor, for its admins and platform admins; 404 for anyone else. With
    ``admin_only``, a platform admin who is not the sponsor's admin gets 403 (they cannot
    spend the sponsor's money)."""
    sponsor = db.session.get(Sponsor, sponsor_id)
    if sponsor is None:
        raise NotFound("No such sponsor.")
    if is_sponsor_admin(sponsor, actor):
        return sponsor
    if actor.is_platform_admin:
        if admin_only:
            raise Forbidden("Only the sponsor's admins can do this.")
        return sponsor
    raise NotFound("No such sponsor.")


def require_sponsor_admin(sponsor_id: int, actor: User) -> Sponsor:
    """For billing actions, only its admins: ``get_sponsor`` with ``admin_only`` (404 for
    whoever may not see the sponsor, 403 for a platform admin who may see it but not spend
    its money). A 403 to anyone else would confirm that the sponsor exists."""
    return get_sponsor(sponsor_id, actor, admin_only=True)


def sponsors_for(actor: User) -> sa.Select:
    stmt = sa.select(Sponsor).order_by(Sponsor.name, Sponsor.id)
    if actor.is_platform_admin:
        return stmt
    mine = sa.select(SponsorAdmin.sponsor_id).where(SponsorAdmin.user_id == actor.id)
    return stmt.where(Sponsor.id.in_(mine))


def sponsor_admins(sponsor: Sponsor) -> list[User]:
    return db.session.scalars(
        sa.select(User)
        .join(SponsorAdmin, SponsorAdmin.user_id == User.id)
        .where(SponsorAdmin.sponsor_id == sponsor.id)
        .order_by(User.name, User.id)
    ).all()


def invite_admin(sponsor: Sponsor, actor: User, email: str) -> SponsorInvitation:
    """Invite someone to administer the sponsor; the link goes out through the outbox."""
    email = accounts.normalize_email(email)
    existing = db.session.scalar(
        sa.select(SponsorAdmin.id)
        .join(User, User.id == SponsorAdmin.user_id)
        .where(SponsorAdmin.sponsor_id == sponsor.id, User.email == email)
    )
    if existing is not None:
        raise Conflict(f"{email} is already an admin.", errors={"email": ["already an admin"]})
    raw = new_secret()
    invitation = SponsorInvitation(
        sponsor_id=sponsor.id,
        email=email,
        token_hash=hash_secret(raw),
        expires_at=utcnow() + INVITATION_TTL,
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    send_mail(
        email,
        f"Help manage {sponsor.name}'s sponsorship on lms",
        "sponsorships/mail/admin_invitation",
        sponsor=sponsor,
        inviter=actor,
        link=f"{base_url}/sponsor-invitations/{raw}",
        days=INVITATION_TTL.days,
    )
    return invitation


def accept_admin_invitation(raw_token: str, user: User) -> Sponsor:
    """The logged-in ``user`` whose verified email the invitation names becomes an admin."""
    invitation = db.session.scalar(
        sa.select(SponsorInvitation).where(SponsorInvitation.token_hash == hash_secret(raw_token))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    if invitation.status != SponsorInvitationStatus.PENDING or invitation.expires_at <= utcnow():
        raise Gone("This invitation has been used or has expired.")
    if user.email != invitation.email:
        raise Forbidden(f"This invitation is for {invitation.email}; you are {user.email}.")
    accounts.require_verified_email(user, "administer a sponsor")
    used = db.session.execute(
        sa.update(SponsorInvitation)
        .where(
            SponsorInvitation.id == invitation.id,
            SponsorInvitation.status == SponsorInvitationStatus.PENDING,
        )
        .values(
            status=SponsorInvitationStatus.ACCEPTED, accepted_at=utcnow(), accepted_by_id=user.id
        )
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Gone("This invitation has already been used.")
    sponsor = invitation.sponsor
    if not is_sponsor_admin(sponsor, user):
        db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=user.id))
        db.session.flush()
    return sponsor


# -- sponsorships ----------------------------------------------------------------------------


def sponsorships_query(sponsor: Sponsor) -> sa.Select:
    return (
        sa.select(Sponsorship)
        .where(Sponsorship.sponsor_id == sponsor.id)
        .order_by(Sponsorship.id.desc())
    )


def record_manual_sponsorship(
    sponsor: Sponsor,
    actor: User,
    *,
    organization_slug: str,
    seats: int,
    starts_at: datetime,
    ends_at: datetime,
    plan_slug: str | None = None,
    note: str = "",
) -> Sponsorship:
    """A sponsorship paid outside Stripe, recorded by a platform admin: the same seat grant
    and the same impact report as a subscription."""
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.slug == organization_slug)
    )
    errors = {}
    if organization is None:
        errors["organization"] = ["No such organization."]
    plan = None
    if plan_slug:
        plan = plan_by_slug(plan_slug)
        if plan is None:
            errors["plan"] = ["No such plan."]
    if ends_at <= starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if errors:
        raise RuleViolation("The sponsorship cannot be recorded as given.", errors=errors)
    sponsorship = Sponsorship(
        sponsor_id=sponsor.id,
        organization_id=organization.id,
        plan_id=plan.id if plan else None,
        source=SponsorshipSource.MANUAL,
        collection_method="manual",
        status=SponsorshipStatus.ACTIVE,
        seats=seats,
        period_starts_at=starts_at,
        period_ends_at=ends_at,
        note=note,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(sponsorship)
    db.session.flush()
    db.session.refresh(sponsorship)
    apply_seats(sponsorship, note or f"manual sponsorship #{sponsorship.id}", actor)
    db.session.flush()
    return sponsorship


def end_manual_sponsorship(sponsorship: Sponsorship, actor: User, reason: str) -> Sponsorship:
    """End a manual sponsorship now: its grant ends now; learners keep their seats (the
    organization may be over capacity) and everyone keeps their progress."""
    if sponsorship.source != SponsorshipSource.MANUAL:
        raise Conflict("A Stripe sponsorship ends by cancelling its subscription.")
    now = utcnow()
    if sponsorship.period_ends_at and sponsorship.period_ends_at > now:
        sponsorship.period_ends_at = now
    sponsorship.status = SponsorshipStatus.ENDED
    apply_seats(sponsorship, reason, actor)
    db.session.flush()
    return sponsorship


def get_sponsorship(sponsor: Sponsor, sponsorship_id: int) -> Sponsorship:
    sponsorship = db.session.scalar(
        sa.select(Sponsorship).where(
            Sponsorship.id == sponsorship_id, Sponsorship.sponsor_id == sponsor.id
        )
    )
    if sponsorship is None:
        raise NotFound("No such sponsorship.")
    return sponsorship


# -- sponsors on certificates ----------------------------------------------------------------


def sponsor_for_certificate(organization_id: int, at: datetime) -> tuple[str, str | None] | None:
    """The sponsor to name on a certificate issued at ``at`` to a learner of the organization:
    one that funds it then, on a plan that names sponsors (the earliest such sponsorship).
    Returns (name, logo URL) or None."""
    row = db.session.execute(
        sa.select(Sponsor.name, Sponsor.logo_url)
        .join(Sponsorship, Sponsorship.sponsor_id == Sponsor.id)
        .join(SponsorshipPlan, SponsorshipPlan.id == Sponsorship.plan_id)
        .where(
            Sponsorship.organization_id == organization_id,
            SponsorshipPlan.has_sponsor_on_certificates == sa.true(),
            Sponsorship.status.in_([*KEEPS_SEATS, SponsorshipStatus.PAST_DUE]),
            Sponsorship.period_starts_at <= at,
            Sponsorship.period_ends_at > at,
        )
        .order_by(Sponsorship.id)
        .limit(1)
    ).first()
    return (row.name, row.logo_url) if row else None


# -- what the pages show (each a read, so views run no statements) ---------------------------

SPONSORSHIPS_SHOWN = 200
SPONSORS_SHOWN = 500


def plans_shown() -> list[SponsorshipPlan]:
    return list(db.session.scalars(active_plans()))


def recent_sponsorships(sponsor: Sponsor) -> list[Sponsorship]:
    return list(db.session.scalars(sponsorships_query(sponsor).limit(SPONSORSHIPS_SHOWN)))


def sponsors_shown(actor: User) -> list[Sponsor]:
    return list(db.session.scalars(sponsors_for(actor).limit(SPONSORS_SHOWN)))
