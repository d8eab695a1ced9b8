import marshmallow as ma
from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from lms.accounts.schemas import new_password
from lms.core.api import InputSchema, OutputSchema, QuerySchema
from lms.core.db import utcnow
from lms.core.fields import Line, Text, UtcDateTime, country_code, slug
from lms.memberships.models import MemberRole, OrganizationKind

SLUG = slug("Use lowercase letters, digits, hyphens.")
ROLE = validate.OneOf([r.value for r in MemberRole])


KINDS = validate.OneOf([k.value for k in OrganizationKind])
COUNTRY = country_code()


def website_url(**kwargs) -> fields.Url:
    """An organization's website: an http(s) URL that fits its column."""
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=300), **kwargs)


class OrganizationIn(InputSchema):
    slug = fields.String(required=True, validate=[validate.Length(min=2, max=60), SLUG])
    name = Line(required=True, max_length=200)
    kind = fields.String(load_default=OrganizationKind.UNIVERSITY_OSPO.value, validate=KINDS)
    country = fields.String(load_default=None, allow_none=True, validate=COUNTRY)
    website = website_url(load_default=None, allow_none=True)
    contact_email = fields.Email(
        load_default=None, allow_none=True, validate=validate.Length(max=254)
    )


class OrganizationPatchIn(InputSchema):
    """Only the fields sent change: no defaults here, unlike OrganizationIn. The slug is the
    organization's address and stays."""

    name = Line(max_length=200)
    kind = fields.String(validate=KINDS)
    country = fields.String(allow_none=True, validate=COUNTRY)
    website = website_url(allow_none=True)
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class OrganizationOut(OutputSchema):
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    country = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class SeatGrantIn(InputSchema):
    seats = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(
        required=True, metadata={"description": "after starts_at (422 otherwise)"}
    )
    note = Text(load_default="", max_length=2000)

    @ma.validates_schema
    def check_period(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", field_name="ends_at")


class SeatGrantChangeIn(InputSchema):
    seats = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    ends_at = UtcDateTime(metadata={"description": "after the grant's starts_at (422 otherwise)"})
    reason = Text(required=True, max_length=2000, blank=False)


class SeatGrantOut(OutputSchema):
    id = fields.Integer()
    seats = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    source = fields.String()
    note = fields.String()
    created_at = fields.AwareDateTime()


class LedgerEventOut(OutputSchema):
    id = fields.Integer()
    grant_id = fields.Integer()
    action = fields.String()
    seats = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    reason = fields.String()
    actor = fields.Function(
        lambda e: e.actor.email if e.actor else None,
        metadata={"type": ["string", "null"], "description": "who made the change (email)"},
    )
    created_at = fields.AwareDateTime()


class MembershipOut(OutputSchema):
    organization = fields.String()
    status = fields.String(metadata={"description": "active, expiring (within 30 days) or lapsed"})
    seats_total = fields.Integer(attribute="capacity")
    seats_used = fields.Integer(attribute="used")
    seats_free = fields.Integer(attribute="free")
    over_capacity = fields.Boolean()
    term_starts_at = fields.AwareDateTime(allow_none=True)
    term_ends_at = fields.AwareDateTime(allow_none=True)
    grants = fields.List(fields.Nested(SeatGrantOut))


class MemberQuery(QuerySchema):
    search = Line(max_length=200, blank=True)
    role = fields.String(validate=ROLE)
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "removed"]))


class MemberOut(OutputSchema):
    user_id = fields.Integer()
    email = fields.String(attribute="user.email")
    name = fields.String(attribute="user.name")
    role = fields.String()
    status = fields.String()
    learner_seat = fields.Boolean(
        attribute="holds_seat",
        metadata={"description": "holds a seat, so may learn: learners always, admins by choice"},
    )
    joined_at = fields.AwareDateTime()
    removed_at = fields.AwareDateTime(allow_none=True)


class MemberPatchIn(InputSchema):
    """The role, the learner seat, or both (the role changes first)."""

    role = fields.String(validate=ROLE)
    learner_seat = fields.Boolean(
        metadata={"description": "true: an admin takes a seat to learn; false: releases it"}
    )

    @ma.validates_schema
    def check_something_changes(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send role, learner_seat or both.", field_name="_schema")


class InvitationIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(load_default=MemberRole.LEARNER.value, validate=ROLE)
    name = Line(load_default="", max_length=200, blank=True)
    courses = fields.List(fields.String(validate=SLUG), load_default=list)


class InvitationQuery(QuerySchema):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(["pending", "expired", "accepted", "revoked", "all"]),
    )


class InvitationOut(OutputSchema):
    id = fields.String(attribute="code")
    email = fields.String()
    name = fields.String()
    role = fields.String()
    courses = fields.List(fields.String())
    status = fields.Function(
        lambda i: i.state(utcnow()),
        metadata={"type": "string", "enum": ["pending", "expired", "accepted", "revoked"]},
    )
    expires_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    accepted_at = fields.AwareDateTime(allow_none=True)


class AcceptIn(InputSchema):
    name = Line(max_length=200)
    password = new_password()


class AcceptOut(OutputSchema):
    organization = fields.String(attribute="member.organization.slug")
    role = fields.String(attribute="member.role")
    user_id = fields.Integer(attribute="user.id")
    email = fields.String(attribute="user.email")
    created_account = fields.Boolean()
    claimed_account = fields.Boolean(
        metadata={"description": "An unconfirmed account used the address and is now yours."}
    )


class CsvQuery(QuerySchema):
    dry_run = fields.Boolean(load_default=False)


class CsvFiles(ma.Schema):
    file = Upload(required=True, metadata={"description": "CSV: email,name,role,courses"})


class RowResultOut(OutputSchema):
    row = fields.Integer()
    email = fields.String()
    status = fields.String()
    reason = fields.String()
    role = fields.String()
    courses = fields.List(fields.String())


COUNT = {"type": "integer", "description": "rows with this status"}


class CsvReportOut(OutputSchema):
    dry_run = fields.Boolean()
    seats_free = fields.Integer(metadata={"description": "free seats before this import"})
    created = fields.Function(lambda r: r.count("created"), metadata=COUNT)
    already_member = fields.Function(lambda r: r.count("already_member"), metadata=COUNT)
    already_invited = fields.Function(lambda r: r.count("already_invited"), metadata=COUNT)
    rejected = fields.Function(lambda r: r.count("rejected"), metadata=COUNT)
    rows = fields.List(fields.Nested(RowResultOut))


class LogoFiles(ma.Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "a PNG or JPEG (limits: ORGANIZATION_LOGO_MAX_BYTES, "
            "ORGANIZATION_LOGO_MAX_SIDE pixels a side); stored re-encoded as a PNG that fits "
            "ORGANIZATION_LOGO_BOX pixels, without metadata"
        },
    )


class LogoOut(OutputSchema):
    organization = fields.String(attribute="organization.slug")
    url = fields.Function(
        lambda logo: url_for("memberships.logo", slug=logo.organization.slug),
        metadata={"type": "string", "description": "the stored PNG"},
    )
    width = fields.Integer()
    height = fields.Integer()
    size = fields.Function(
        lambda logo: len(logo.png), metadata={"type": "integer", "description": "bytes"}
    )
    sha256 = fields.String()
    uploaded_at = fields.AwareDateTime()
