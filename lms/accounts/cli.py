"""``flask lms create-admin``."""

import click
from flask.cli import AppGroup

from lms.accounts import services
from lms.core.errors import DomainError
from lms.core.extensions import db


def register(group: AppGroup) -> None:
    @group.command("create-admin")
    @click.argument("email")
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="The password (prompted for when omitted).",
    )
    @click.option("--name", default="Platform admin", show_default=True)
    def create_admin(email: str, password: str, name: str) -> None:
        """Create a platform admin, or promote an existing account to one."""
        try:
            user, created = services.ensure_platform_admin(email, password, name)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            details = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in (exc.errors or {}).items()
            )
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        verb = "Created" if created else "Promoted"
        click.echo(f"{verb} platform admin {user.email}.")
