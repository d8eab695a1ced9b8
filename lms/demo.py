"""``flask lms seed-demo``: demo data for a newcomer's first look (idempotent).

Each package contributes its part in dependency order; running the command again changes
nothing and prints the same logins.
"""

import click
from flask.cli import AppGroup

from lms.core.extensions import db

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published demo login)
DEMO_ADMIN = ("admin@example.org", "Ada Admin")
DEMO_LEARNER = ("learner@example.org", "Lee Learner")


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
            )
            db.session.add(user)
        logins.append((("platform admin" if is_admin else "learner"), email))
    db.session.flush()
    return logins


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
        logins = seed_accounts()
        courses = seed_courses()
        db.session.commit()
        click.echo("Demo data is ready. Log in at /login with:")
        for role, email in logins:
            click.echo(f"  {role:<15} {email}  password: {DEMO_PASSWORD}")
        click.echo("Published courses (see /courses):")
        for line in courses:
            click.echo(f"  {line}")
