"""Sponsors on certificates (issue 12, item 9) and certificates in the sponsors' impact report:
the two packages meet only through the hooks the app factory sets."""

import json
from datetime import timedelta

import sqlalchemy as sa

from lms.certificates import codes
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.sponsorships import services as sponsorships
from lms.sponsorships.models import Sponsor, SponsorAdmin
from tests.certificates.conftest import complete_course
from tests.conftest import log_in
from tests.factories import MemberFactory, UserFactory
from tests.sponsorships.conftest import PlanFactory


def fund(org, *, names_sponsor: bool):
    plan = PlanFactory(slug="named" if names_sponsor else "quiet")
    plan.has_sponsor_on_certificates = names_sponsor
    sponsor = Sponsor(name="Open Research Foundation", billing_email="b@orf.example")
    from lms.core.extensions import db

    db.session.add(sponsor)
    db.session.flush()
    admin = UserFactory()
    db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=admin.id))
    sponsorships.record_manual_sponsorship(
        sponsor, None, organization_slug=org.slug, seats=5, plan_slug=plan.slug,
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=30),
    )  # fmt: skip
    db.session.flush()
    return sponsor, admin


def issued(db, user):
    return db.session.scalar(sa.select(Certificate).where(Certificate.user_id == user.id))


def test_a_sponsor_on_a_naming_plan_is_on_the_certificate_and_its_credential(
    app, client, db, course, org, learner
):
    fund(org, names_sponsor=True)
    log_in(client, learner)
    complete_course(client)
    certificate = issued(db, learner)
    assert certificate.sponsor_name == "Open Research Foundation"
    code = codes.display(certificate.code)
    credential = json.loads(client.get(f"/api/v1/certificates/{code}/credential").data)
    assert "Open Research Foundation" in credential["description"]


def test_a_plan_that_does_not_name_sponsors_leaves_them_off(app, client, db, course, org, learner):
    fund(org, names_sponsor=False)
    log_in(client, learner)
    complete_course(client)
    assert issued(db, learner).sponsor_name is None


def test_the_impact_report_counts_certificates_issued_to_funded_learners(
    app, client, db, course, org
):
    sponsor, sponsor_admin = fund(org, names_sponsor=True)
    learners = [MemberFactory(organization=org, role="learner").user for _ in range(5)]
    for learner in learners:
        complete_course(log_in(app.test_client(), learner))
    log_in(client, sponsor_admin)
    impact = client.get(f"/api/v1/sponsors/{sponsor.id}/impact").json
    (row,) = [r for r in impact["rows"] if r["course"] == "tiny-course"]
    assert row["completions"] == 5 and row["certificates"] == 5
