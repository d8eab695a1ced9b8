import marshmallow as ma
from marshmallow import fields, validate

from lms.core.api import InputSchema, OutputSchema, QuerySchema
from lms.core.fields import Line, Text, UtcDateTime, slug

SEATS = validate.Range(min=1, max=100_000)
SLUG = [validate.Length(min=1, max=60), slug()]


class PlanOut(OutputSchema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    unit_amount = fields.Integer(metadata={"description": "per seat, in the minor unit"})
    currency = fields.String()
    interval = fields.String()
    min_seats = fields.Integer()
    has_sponsor_on_certificates = fields.Boolean()


class SponsorIn(InputSchema):
    name = Line(required=True, max_length=200)
    website = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"})
    logo_url = fields.Url(load_default=None, allow_none=True, schemes={"https"})
    billing_email = fields.Email(required=True, validate=validate.Length(max=254))


class SponsorOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    website = fields.String(allow_none=True)
    logo_url = fields.String(allow_none=True)
    billing_email = fields.String()
    has_billing_account = fields.Function(
        lambda s: bool(s.stripe_customer_id), metadata={"type": "boolean"}
    )
    created_at = fields.AwareDateTime()


class CheckoutIn(InputSchema):
    plan = fields.String(required=True, validate=SLUG)
    organization = fields.String(required=True, validate=SLUG)
    seats = fields.Integer(required=True, strict=True, validate=SEATS)


class CheckoutOut(OutputSchema):
    id = fields.String()
    url = fields.String()


class PortalIn(InputSchema):
    pass


class UrlOut(OutputSchema):
    url = fields.String()


class InvoiceSponsorshipIn(CheckoutIn):
    days_until_due = fields.Integer(
        load_default=30, strict=True, validate=validate.Range(min=1, max=365)
    )


class ManualSponsorshipIn(InputSchema):
    organization = fields.String(required=True, validate=SLUG)
    plan = fields.String(load_default=None, allow_none=True, validate=SLUG)
    seats = fields.Integer(required=True, strict=True, validate=SEATS)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    note = Text(load_default="", max_length=2000)

    @ma.validates_schema
    def check_period(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", field_name="ends_at")


class EndSponsorshipIn(InputSchema):
    reason = Text(required=True, max_length=2000, blank=False)


class SponsorshipOut(OutputSchema):
    id = fields.Integer()
    organization = fields.Function(lambda s: s.organization.slug, metadata={"type": "string"})
    plan = fields.Function(
        lambda s: s.plan.slug if s.plan else None, metadata={"type": ["string", "null"]}
    )
    source = fields.String()
    collection_method = fields.String()
    status = fields.String()
    seats = fields.Integer()
    period_starts_at = fields.AwareDateTime(allow_none=True)
    period_ends_at = fields.AwareDateTime(allow_none=True)
    grant_id = fields.Integer(allow_none=True)
    stripe_subscription_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class AdminInvitationIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class AdminInvitationOut(OutputSchema):
    id = fields.Integer()
    email = fields.String()
    status = fields.String()
    expires_at = fields.AwareDateTime()


class EmptyIn(InputSchema):
    pass


class ImpactQuery(QuerySchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ImpactRowOut(OutputSchema):
    organization = fields.String()
    organization_name = fields.String()
    course = fields.String()
    seats_funded = fields.Integer()
    learners = fields.Integer(allow_none=True)
    enrollments = fields.Integer(allow_none=True)
    completions = fields.Integer(allow_none=True)
    certificates = fields.Integer(allow_none=True)


class MonthOut(OutputSchema):
    month = fields.String()
    completions = fields.Integer(allow_none=True)


class ImpactOut(OutputSchema):
    sponsor = fields.Function(lambda i: i.sponsor.id, metadata={"type": "integer"})
    suppressed_below = fields.Constant(5, metadata={"type": "integer"})
    rows = fields.List(fields.Nested(ImpactRowOut))
    completions_per_month = fields.Function(
        lambda i: [{"month": m, "completions": c} for m, c in i.months],
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "month": {"type": "string"},
                    # None, like the rows' cells, when fewer than 5 learners completed.
                    "completions": {"type": ["integer", "null"]},
                },
            },
        },
    )
