"""JSON API: my certificates (or an organization's), the PDF, verification, revocation and
reissue."""

import json

from flask import Response

from lms.certificates import badges, changes, pdfs, services, verification
from lms.certificates.schemas import (
    CertificateOut,
    CertificateQuery,
    ReinstateIn,
    ReissueIn,
    RevokeIn,
    VerificationOut,
)
from lms.core.api import Blueprint
from lms.core.auth import authenticated_user, login_required, platform_admin_required, public
from lms.core.security import limit_per_address
from lms.memberships import services as memberships

blp = Blueprint("certificates_api", __name__, url_prefix="/api/v1", description="Certificates")


# Verification (the API, its page, the form and the LinkedIn link): one budget per address.
verify_limit = limit_per_address("certificate-verification", "CERTIFICATE_VERIFY_PER_ADDRESS")


@blp.route("/certificates", methods=["GET"])
@login_required
@blp.error_responses(403, 404)
@blp.arguments(CertificateQuery, location="query")
@blp.response(200, CertificateOut(many=True))
@blp.paginate()
def list_certificates(query, pagination_parameters):
    """My certificates, newest first; ?organization=<slug>: that organization's (its admins)"""
    user = authenticated_user()
    if query.get("organization"):
        organization = memberships.get_organization(query["organization"], user, admin=True)
        statement = services.organization_certificates(organization)
    else:
        statement = services.my_certificates(user)
    rows, total = services.certificates_page(
        statement, pagination_parameters.page, pagination_parameters.page_size
    )
    pagination_parameters.item_count = total
    return rows


@blp.route("/certificates/<code>.pdf", methods=["GET"], operation_id="getCertificatePdf")
@login_required
@blp.response(200, content_type="application/pdf")
def certificate_pdf(code):
    """The certificate's PDF (its owner and the organization's admins; 404 for anyone else)"""
    certificate, pdf = pdfs.pdf_for(authenticated_user(), code)
    filename = f"certificate-{certificate.course_slug}-{certificate.code}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/verify/<code>", methods=["GET"], operation_id="verifyCertificate")
@public
@blp.error_responses(429)
@verify_limit
@blp.response(200, VerificationOut)
def verify(code):
    """Anyone: valid, revoked (when and why) or replaced (by which code); 404 if unknown"""
    return verification.verify(code)


@blp.route("/certificates/<code>/revoke", methods=["POST"], operation_id="revokeCertificate")
@platform_admin_required
@blp.error_responses(409)
@blp.arguments(RevokeIn)
@blp.response(200, CertificateOut)
def revoke(data, code):
    """Revoke a certificate with a reason (platform admins); the record is kept"""
    certificate = changes.revoke(authenticated_user(), code, data["reason"])
    return services.rows([certificate])[0]


@blp.route("/certificates/<code>/reinstate", methods=["POST"], operation_id="reinstateCertificate")
@platform_admin_required
@blp.error_responses(409)
@blp.arguments(ReinstateIn)
@blp.response(200, CertificateOut)
def reinstate(data, code):
    """Undo a revocation (platform admins)"""
    certificate = changes.reinstate(authenticated_user(), code, data["reason"])
    return services.rows([certificate])[0]


@blp.route("/certificates/<code>/reissue", methods=["POST"], operation_id="reissueCertificate")
@login_required
@blp.error_responses(409)
@blp.arguments(ReissueIn)
@blp.response(201, CertificateOut)
def reissue(data, code):
    """Reissue my certificate under a new name: a new code; the old one verifies as replaced"""
    certificate = changes.reissue(authenticated_user(), code, data["name"])
    return services.rows([certificate])[0]


# -- the Open Badges 3.0 credential and the documents that verify it --------------------


@blp.route("/certificates/<code>/credential", methods=["GET"], operation_id="getCredential")
@login_required
@blp.response(200, content_type="application/vc+ld+json")
def credential(code):
    """The certificate's signed Open Badges 3.0 credential (its owner and the organization's
    admins; 404 for anyone else); the same JSON is attached to the PDF"""
    certificate = services.get_for_reader(authenticated_user(), code)
    return Response(badges.credential_json(certificate), mimetype="application/vc+ld+json")


@blp.route("/issuer", methods=["GET"], operation_id="getIssuerProfile")
@public
@blp.response(200, content_type="application/ld+json")
def issuer():
    """The issuer's Open Badges profile with its public keys (retired ones too, so that what
    they signed keeps verifying)"""
    return _public_json(badges.issuer_document())


@blp.route("/status-lists/revocation", methods=["GET"], operation_id="getRevocationList")
@public
@blp.response(200, content_type="application/vc+ld+json")
def revocation_list():
    """The signed Bitstring Status List of revoked certificates (credentialStatus points here)"""
    return _public_json(badges.revocation_list(), max_age=60)


def _public_json(document: dict, max_age: int = 3600) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
