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
    assert [(email, c.course_slug) for email, c in rows] == [
        ("ben.lab@example.org", "open-source-foundations")
    ]
    certificate = rows[0][1]
    assert certificate.pdf.startswith(b"%PDF-")
    verification = client.get(f"/api/v1/verify/{codes.display(certificate.code)}").json
    assert verification["status"] == "valid" and verification["learner_name"] == "Ben Lab"
