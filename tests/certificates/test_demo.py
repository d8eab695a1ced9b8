"""seed-demo's finished learner holds a certificate whose PDF was rendered after the commit."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.certificates import codes
from lms.certificates.models import Certificate


def test_the_demo_learner_who_finished_has_a_certificate(runner, db, client):
    result = runner.invoke(args=["lms", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["lms", "seed-demo"]).exit_code == 0  # still one certificate
    rows = db.session.execute(
        sa.select(User.email, Certificate).join(User, User.id == Certificate.user_id)
    ).all()
    by_email = {email: c for email, c in rows}
    assert len(by_email) == len(rows)  # one each: seeding twice issued nothing new
    # The researcher who finished (and the sponsored cohort's finishers) hold one.
    certificate = by_email["ben.lab@example.org"]
    assert certificate.course_slug == "open-source-foundations"
    assert all(c.pdf.startswith(b"%PDF-") for c in by_email.values())
    assert certificate.pdf.startswith(b"%PDF-")
    verification = client.get(f"/api/v1/verify/{codes.display(certificate.code)}").json
    assert verification["status"] == "valid" and verification["learner_name"] == "Ben Lab"
