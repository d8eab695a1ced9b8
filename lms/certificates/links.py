"""The links the learner's pages show for a certificate (its PDF, its verification page,
LinkedIn's "Add to profile"), built from the code that progress keeps on the enrollment."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.certificates import codes, services
from lms.core.extensions import db
from lms.progress.certificate_links import CertificateLinks
from lms.progress.models import Enrollment


def linkedin_redirect_url(code: str) -> str:
    """Our route that sends the learner on to LinkedIn's form, filled in from the certificate
    (``views.add_to_linkedin``): the pages that link it know only the code."""
    return f"{services.base_url()}/certificates/{codes.display(code)}/linkedin"


def links_for(text: str) -> CertificateLinks | None:
    """The links of a certificate code (as stored or as shown); None for something else."""
    code = codes.normalize(text)
    if code is None:
        return None
    return CertificateLinks(
        code=codes.display(code),
        pdf_url=services.pdf_url(code),
        verify_url=services.verification_url(code),
        linkedin_url=linkedin_redirect_url(code),
    )


def for_course(user: User, course_id: int) -> CertificateLinks | None:
    """The links of the learner's current certificate for a course (the course page): one
    indexed read of the enrollment's copy of the code, (user, course) being unique."""
    code = db.session.scalar(
        sa.select(Enrollment.certificate_code).where(
            Enrollment.user_id == user.id, Enrollment.course_id == course_id
        )
    )
    return links_for(code) if code else None
