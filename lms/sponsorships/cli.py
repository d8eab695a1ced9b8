"""``flask lms stripe save-plan | sync-plans | replay --since DATE``."""

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.sponsorships import gateway, services, webhooks


def register(group: AppGroup) -> None:
    stripe_cli = AppGroup("stripe", help="Sponsorship plans and Stripe events.")
    group.add_command(stripe_cli)

    @stripe_cli.command("save-plan")
    @click.argument("slug")
    @click.option("--name", required=True)
    @click.option("--amount", type=click.IntRange(0), required=True, help="Per seat, in cents.")
    @click.option("--currency", default="eur", show_default=True)
    @click.option("--interval", type=click.Choice(["month", "year"]), default="year")
    @click.option("--min-seats", type=click.IntRange(1), default=1, show_default=True)
    @click.option("--names-sponsor/--no-names-sponsor", default=False)
    def save_plan(slug, name, amount, currency, interval, min_seats, names_sponsor) -> None:
        """Create or change a sponsorship plan (then run sync-plans)."""
        plan = services.save_plan(
            {
                "slug": slug,
                "name": name,
                "unit_amount": amount,
                "currency": currency.lower(),
                "interval": interval,
                "min_seats": min_seats,
                "has_sponsor_on_certificates": names_sponsor,
            }
        )
        db.session.commit()
        click.echo(f"Plan {plan.slug} saved.")

    @stripe_cli.command("sync-plans")
    def sync_plans() -> None:
        """Create or update the Stripe Products and Prices of the plans (idempotent)."""
        try:
            results = services.sync_plans()
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        for result in results:
            changes = ", ".join(result.changes) or "unchanged"
            click.echo(f"{result.plan.slug}: {changes} (price {result.plan.stripe_price_id})")

    @stripe_cli.command("replay")
    @click.option(
        "--since",
        required=True,
        type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
        help="UTC date (or date and time) of the first event to fetch.",
    )
    def replay(since: datetime) -> None:
        """Fetch Stripe's events since DATE and apply the missed ones (each at most once)."""
        since = since.replace(tzinfo=UTC)
        try:
            events = gateway.list_events(since)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        counts: dict[str, int] = {}
        for event in events:
            try:
                outcome = webhooks.process_event(event, source="replay")
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                raise click.ClickException(
                    f"event {event.get('id')}: {exc.message} (run the replay again)"
                ) from None
            key = outcome.result.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
        summary = ", ".join(f"{n} {key}" for key, n in sorted(counts.items())) or "no events"
        click.echo(f"{len(events)} event(s) since {since:%Y-%m-%d %H:%M} UTC: {summary}.")
