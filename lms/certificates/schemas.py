from marshmallow import fields, validate

from lms.core.api import InputSchema, OutputSchema, QuerySchema
from lms.core.fields import Line, Text


class CertificateQuery(QuerySchema):
    organization = fields.String(
        validate=validate.Length(max=60),
        metadata={"description": "an organization's certificates (its admins only)"},
    )


class CertificateOut(OutputSchema):
    code = fields.String(metadata={"description": "ABCD-EFGH-JKMN-PQRS"})
    course = fields.String(attribute="course_slug")
    course_title = fields.String()
    version = fields.String(attribute="version_label")
    learner_name = fields.String()
    organization = fields.String(attribute="organization_name")
    completed_at = fields.AwareDateTime()
    issued_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": "valid, revoked or replaced"})
    revoked_at = fields.AwareDateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True)
    pdf_url = fields.String()
    verification_url = fields.String()
    linkedin_url = fields.String(metadata={"description": "LinkedIn's add-to-profile link"})


class VerificationOut(OutputSchema):
    status = fields.String(metadata={"description": "valid, revoked or replaced"})
    code = fields.String()
    learner_name = fields.String()
    course = fields.String()
    course_title = fields.String()
    version = fields.String()
    organization = fields.String()
    completed_at = fields.AwareDateTime()
    issued_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "the new code"})


class RevokeIn(InputSchema):
    reason = Text(max_length=2000, blank=False, required=True)


class ReinstateIn(InputSchema):
    reason = Text(max_length=2000, load_default="")


class ReissueIn(InputSchema):
    name = Line(max_length=200, required=True, metadata={"description": "the name to print"})
