"""Sponsors, their admins, plans, sponsorships and the Stripe events already applied.

A sponsorship funds seats at one organization (its beneficiary). One paid through Stripe
follows its subscription (``stripe_subscription_id``); a manual one is recorded by a platform
admin. Either way its seats are a ``sponsorship`` seat grant at the beneficiary (``grant_id``),
changed only through the memberships services, so the grant ledger shows every change.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.core.extensions import db
from lms.memberships.models import Organization, SeatGrant


class PlanInterval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class SponsorshipPlan(TimestampMixin, db.Model):
    __tablename__ = "sponsorship_plans"
    __table_args__ = (
        sa.CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        sa.CheckConstraint("min_seats >= 1", name="min_seats_positive"),
        sa.CheckConstraint("interval IN ('month', 'year')", name="interval_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    unit_amount: Mapped[int]  # price per seat and interval, in the currency's minor unit
    currency: Mapped[str] = mapped_column(sa.String(3))  # ISO 4217, lowercase as Stripe has it
    interval: Mapped[str] = mapped_column(sa.String(10), default=PlanInterval.YEAR)
    min_seats: Mapped[int] = mapped_column(default=1)
    # Certificates issued while a sponsor on this plan funds the organization name the sponsor.
    has_sponsor_on_certificates: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    stripe_product_id: Mapped[str | None] = mapped_column(sa.String(255))
    stripe_price_id: Mapped[str | None] = mapped_column(sa.String(255))


class Sponsor(TimestampMixin, db.Model):
    __tablename__ = "sponsors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    logo_url: Mapped[str | None] = mapped_column(sa.String(500))
    billing_email: Mapped[str] = mapped_column(sa.String(254))
    # Created on the first checkout or invoice subscription.
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class SponsorAdmin(db.Model):
    __tablename__ = "sponsor_admins"
    __table_args__ = (sa.UniqueConstraint("sponsor_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(sa.ForeignKey("sponsors.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SponsorInvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class SponsorInvitation(db.Model):
    """An emailed, single-use, expiring invitation to become a sponsor's admin (token hashed)."""

    __tablename__ = "sponsor_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(sa.ForeignKey("sponsors.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=SponsorInvitationStatus.PENDING)
    expires_at: Mapped[datetime]
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sponsor: Mapped[Sponsor] = relationship(lazy="joined", innerjoin=True)


class SponsorshipSource(StrEnum):
    STRIPE = "stripe"
    MANUAL = "manual"


class SponsorshipStatus(StrEnum):
    """Stripe's subscription statuses, plus ``ended`` for a manual sponsorship that was ended."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    PAUSED = "paused"
    ENDED = "ended"


class Sponsorship(TimestampMixin, db.Model):
    __tablename__ = "sponsorships"
    __table_args__ = (sa.CheckConstraint("seats >= 0", name="seats_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(sa.ForeignKey("sponsors.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sponsorship_plans.id"))
    source: Mapped[str] = mapped_column(sa.String(10))
    # charge_automatically (card through Checkout), send_invoice (net terms) or manual.
    collection_method: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(20))
    seats: Mapped[int]
    stripe_subscription_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    period_starts_at: Mapped[datetime | None]
    period_ends_at: Mapped[datetime | None]
    grant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("seat_grants.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    sponsor: Mapped[Sponsor] = relationship(lazy="joined", innerjoin=True)
    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
    plan: Mapped[SponsorshipPlan | None] = relationship(lazy="joined")
    grant: Mapped[SeatGrant | None] = relationship(lazy="joined")


class StripeEvent(db.Model):
    """A Stripe event that was applied. The unique event id, inserted in the same transaction
    as the event's effect, makes a second delivery (or a replay) change nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    api_version: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(10))  # webhook | replay
    outcome: Mapped[str] = mapped_column(sa.String(200), default="")
    stripe_created_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
