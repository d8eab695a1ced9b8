"""``flask lms seed-demo``: demo data for a newcomer's first look (idempotent).

Each package contributes its part in dependency order; running the command again changes
nothing and prints the same logins.
"""

import click
from flask import current_app
from flask.cli import AppGroup

from lms.core.db import utcnow
from lms.core.extensions import db

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published demo login)
DEMO_ADMIN = ("admin@example.org", "Ada Admin")
DEMO_LEARNER = ("learner@example.org", "Lee Learner")
DEMO_OSPO_ADMIN = ("ospo@example.org", "Olu OSPO")
DEMO_ORG = ("demo-university", "Demo University Open Source Program Office")
DEMO_RESEARCHERS = [
    ("learner@example.org", "Lee Learner"),
    ("ana.research@example.org", "Ana Research"),
    ("ben.lab@example.org", "Ben Lab"),
    ("chen.data@example.org", "Chen Data"),
]


def seed_accounts() -> list[tuple[str, str]]:
    from lms.accounts import services
    from lms.accounts.models import User

    logins = []
    for (email, name), is_admin in ((DEMO_ADMIN, True), (DEMO_LEARNER, False)):
        user = services.get_user_by_email(email)
        if user is None:
            user = User(
                email=email,
                name=name,
                password_hash=services.hash_password(DEMO_PASSWORD),
                is_platform_admin=is_admin,
                email_verified_at=utcnow(),
            )
            db.session.add(user)
        logins.append((("platform admin" if is_admin else "learner"), email))
    db.session.flush()
    return logins


def _demo_user(email: str, name: str):
    from lms.accounts import services
    from lms.accounts.models import User

    user = services.get_user_by_email(email)
    if user is None:
        user = User(
            email=email,
            name=name,
            password_hash=services.hash_password(DEMO_PASSWORD),
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
    return user


def seed_organization() -> list[tuple[str, str]]:
    """An OSPO with an admin, a 25-seat invoice-paid grant and a few researchers."""
    from datetime import timedelta

    import sqlalchemy as sa

    from lms.demo_timeline import history_start
    from lms.memberships import services
    from lms.memberships.models import Organization, SeatGrant

    slug, name = DEMO_ORG
    organization = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
    if organization is None:
        organization = services.create_organization(
            None, {"slug": slug, "name": name, "kind": "university_ospo", "country": "DE"}
        )
    if not db.session.scalar(
        sa.select(SeatGrant.id).where(SeatGrant.organization_id == organization.id)
    ):
        start = history_start()  # before the demo's first enrollment
        services.record_grant(
            organization,
            None,
            seats=25,
            starts_at=start,
            ends_at=start + timedelta(days=365),
            note="Demo invoice 2026-001",
        )
    services.add_member(organization, _demo_user(*DEMO_OSPO_ADMIN), "admin")
    for email, person in DEMO_RESEARCHERS:
        services.add_member(organization, _demo_user(email, person), "learner")
    return [("OSPO admin", DEMO_OSPO_ADMIN[0])]


# (email, course, how many of its lessons and quizzes to finish; None = all of them)
DEMO_PROGRESS = [
    ("ben.lab@example.org", "open-source-foundations", None),
    ("ana.research@example.org", "open-source-foundations", 12),
    ("learner@example.org", "open-source-foundations", 3),
    ("chen.data@example.org", "responsible-genai-research-software", 1),
]


def seed_progress() -> list[str]:
    """Demo learners at different stages; one has completed a course. Running it again
    changes nothing: progress writes are idempotent and passed quizzes are not retaken."""
    import sqlalchemy as sa

    from lms.accounts import services as accounts
    from lms.courses.models import Lesson
    from lms.demo_timeline import date_enrollment
    from lms.progress import enrolling, lesson_progress, quizzes
    from lms.progress.dashboard import lesson_states

    lines = []
    for email, course, steps in DEMO_PROGRESS:
        user = accounts.get_user_by_email(email)
        enrollment, created = enrolling.enroll(user, course)
        lessons = db.session.scalars(
            sa.select(Lesson)
            .where(Lesson.version_id == enrollment.version_id)
            .order_by(Lesson.position)
        ).all()
        done = lesson_states(enrollment.id)
        for lesson in lessons[: len(lessons) if steps is None else steps]:
            if lesson.is_quiz:
                if not (done.get(lesson.id) and done[lesson.id].completed_at):
                    answers = {q["id"]: q["answer"] for q in lesson.questions}
                    quizzes.submit_attempt(user, enrollment.id, lesson.slug, answers)
            else:
                lesson_progress.mark_lesson(user, enrollment.id, lesson.slug, "completed", 300)
        if created:
            date_enrollment(enrollment)
        db.session.refresh(enrollment)
        lines.append(f"{email}: {course} {enrollment.percent_complete}%")
    return lines


def seed_courses() -> list[str]:
    """Import and publish the launch courses from content/ (unchanged content: no change)."""
    from lms.courses import services

    lines = []
    for folder in services.launch_course_folders():
        result = services.import_course_folder(folder, publish=True)
        lines.append(f"{result.version.title} ({result.course.slug} {result.version.label})")
    return lines


def register(group: AppGroup) -> None:
    @group.command("seed-demo")
    def seed_demo() -> None:
        """Create (or keep) the demo accounts and data, and print the logins."""
        if current_app.config["ENV"] == "production":
            # The demo logins and their password are published in this file and the README.
            raise click.ClickException(
                "seed-demo refuses to run with ENV=production: it creates a platform admin "
                "whose password is published. Use `flask lms create-admin` instead."
            )
        logins = seed_accounts()
        courses = seed_courses()
        logins += seed_organization()
        progress = seed_progress()
        from lms.sponsorships.demo import seed_sponsorships

        sponsorship_lines = seed_sponsorships(DEMO_ORG[0])
        db.session.commit()
        click.echo("Demo data is ready. Log in at /login with:")
        for role, email in logins:
            click.echo(f"  {role:<15} {email}  password: {DEMO_PASSWORD}")
        click.echo(f"Organization: {DEMO_ORG[1]} (/organizations/{DEMO_ORG[0]}), 25 seats.")
        click.echo("Published courses (see /courses):")
        for line in courses:
            click.echo(f"  {line}")
        click.echo("Learner progress (see /dashboard and /organizations/demo-university/report):")
        for line in progress:
            click.echo(f"  {line}")
        for line in sponsorship_lines:
            click.echo(line)
