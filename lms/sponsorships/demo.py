"""``seed-demo``'s sponsorship part: plans, a demo sponsor with a manual sponsorship funding
Demo University, and a sponsored cohort whose progress fills the impact page (idempotent)."""

from datetime import timedelta

import sqlalchemy as sa

from lms.core.extensions import db

DEMO_SPONSOR = ("Open Research Foundation", "sponsor@example.org", "Sam Sponsor")
DEMO_PLANS = [
    {
        "slug": "supporter",
        "name": "Supporter",
        "description": "Fund a cohort of researchers; your name on their certificates.",
        "unit_amount": 12000,
        "currency": "eur",
        "interval": "year",
        "min_seats": 5,
        "has_sponsor_on_certificates": True,
    },
    {
        "slug": "institution",
        "name": "Institution",
        "description": "A university pays for its own OSPO's seats.",
        "unit_amount": 9000,
        "currency": "eur",
        "interval": "year",
        "min_seats": 25,
        "has_sponsor_on_certificates": False,
    },
]
# (email, name, lessons to finish; None = the whole course)
DEMO_COHORT = [
    ("dana.cohort@example.org", "Dana Cohort", None),
    ("eli.cohort@example.org", "Eli Cohort", None),
    ("fay.cohort@example.org", "Fay Cohort", None),
    ("gus.cohort@example.org", "Gus Cohort", None),
    ("hana.cohort@example.org", "Hana Cohort", 5),
]
DEMO_COURSE = "open-source-foundations"


def seed_sponsorships(organization_slug: str) -> list[str]:
    from lms.demo import _demo_user
    from lms.demo_timeline import history_start
    from lms.memberships import services as memberships
    from lms.memberships.models import Organization
    from lms.sponsorships import services
    from lms.sponsorships.models import Sponsor, SponsorAdmin, Sponsorship

    for plan in DEMO_PLANS:
        if services.plan_by_slug(plan["slug"]) is None:
            services.save_plan(plan)
    name, email, person = DEMO_SPONSOR
    admin = _demo_user(email, person)
    sponsor = db.session.scalar(sa.select(Sponsor).where(Sponsor.name == name))
    if sponsor is None:
        sponsor = services.create_sponsor(
            admin, {"name": name, "website": "https://research.example.org", "billing_email": email}
        )
    elif not services.is_sponsor_admin(sponsor, admin):
        db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=admin.id))
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.slug == organization_slug)
    )
    if not db.session.scalar(sa.select(Sponsorship.id).where(Sponsorship.sponsor_id == sponsor.id)):
        start = history_start()  # the cohort's whole story is sponsored
        services.record_manual_sponsorship(
            sponsor,
            None,
            organization_slug=organization.slug,
            plan_slug="supporter",
            seats=10,
            starts_at=start,
            ends_at=start + timedelta(days=365),
            note="Demo grant letter ORF-2026-07",
        )
    for cohort_email, cohort_name, _steps in DEMO_COHORT:
        memberships.add_member(organization, _demo_user(cohort_email, cohort_name), "learner")
    _seed_cohort_progress()
    return [
        f"sponsor admin    {email}",
        f"Sponsor: {name} funds 10 seats at {organization.name} "
        f"(see /sponsors/{sponsor.id}/impact).",
    ]


def _seed_cohort_progress() -> None:
    from lms.accounts import services as accounts
    from lms.courses.models import Lesson
    from lms.demo_timeline import date_enrollment
    from lms.progress.dashboard import lesson_states
    from lms.progress.enrolling import enroll
    from lms.progress.lesson_progress import mark_lesson
    from lms.progress.quizzes import submit_attempt

    for email, _name, steps in DEMO_COHORT:
        user = accounts.get_user_by_email(email)
        enrollment, created = enroll(user, DEMO_COURSE)
        lessons = db.session.scalars(
            sa.select(Lesson)
            .where(Lesson.version_id == enrollment.version_id)
            .order_by(Lesson.position)
        ).all()
        done = lesson_states(enrollment.id)
        for lesson in lessons if steps is None else lessons[:steps]:
            state = done.get(lesson.id)
            if state is not None and state.completed_at:
                continue
            if lesson.is_quiz:
                answers = {q["id"]: q["answer"] for q in lesson.questions}
                submit_attempt(user, enrollment.id, lesson.slug, answers)
            else:
                mark_lesson(user, enrollment.id, lesson.slug, "completed", 300)
        if created:
            date_enrollment(enrollment)
