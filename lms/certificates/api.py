"""JSON API: my certificates (or an organization's), the PDF, verification, revocation and
reissue."""

import sqlalchemy as sa
from flask import Response, current_app

from lms.certificates import pdfs, services
from lms.certificates.schemas import (
    CertificateOut,
    CertificateQuery,
    ReinstateIn,
    ReissueIn,
    RevokeIn,
    VerificationOut,
)
from lms.core.api import Blueprint
from lms.core.auth import authenticated_user, login_required, platform_admin_required
from lms.core.extensions import db, limiter
from lms.memberships import services as memberships

blp = Blueprint("certificates_api", __name__, url_prefix="/api/v1", description="Certificates")


def verify_limit() -> str:
    return current_app.config["CERTIFICATE_VERIFY_PER_ADDRESS"]


@blp.route("/certificates", methods=["GET"])
@login_required
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
    pagination_parameters.item_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    )
    page = statement.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    return services.rows(list(db.session.scalars(page)))


@blp.route("/certificates/<code>.pdf", methods=["GET"])
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


@blp.route("/verify/<code>", methods=["GET"])
@limiter.limit(verify_limit)
@blp.response(200, VerificationOut)
def verify(code):
    """Anyone: valid, revoked (when and why) or replaced (by which code); 404 if unknown"""
    return services.verify(code)


@blp.route("/certificates/<code>/revoke", methods=["POST"])
@platform_admin_required
@blp.arguments(RevokeIn)
@blp.response(200, CertificateOut)
def revoke(data, code):
    """Revoke a certificate with a reason (platform admins); the record is kept"""
    certificate = services.revoke(authenticated_user(), code, data["reason"])
    return services.rows([certificate])[0]


@blp.route("/certificates/<code>/reinstate", methods=["POST"])
@platform_admin_required
@blp.arguments(ReinstateIn)
@blp.response(200, CertificateOut)
def reinstate(data, code):
    """Undo a revocation (platform admins)"""
    certificate = services.reinstate(authenticated_user(), code, data["reason"])
    return services.rows([certificate])[0]


@blp.route("/certificates/<code>/reissue", methods=["POST"])
@login_required
@blp.arguments(ReissueIn)
@blp.response(201, CertificateOut)
def reissue(data, code):
    """Reissue my certificate under a new name: a new code; the old one verifies as replaced"""
    certificate = services.reissue(authenticated_user(), code, data["name"])
    return services.rows([certificate])[0]
