"""Benchmark: a 10,000-row CSV of invitations, previewed (dry run) and applied, through the API.

Targets (issue 4): preview under 5 s, apply under 15 s, on PostgreSQL. Each request goes
through the whole app (auth, CSRF-free bearer token, parsing, rules, one transaction, and
the 10,000 invitation mails written by the file backend after the commit).

    .venv/bin/python -m bench.csv_enrollment             # PostgreSQL and SQLite
    .venv/bin/python -m bench.csv_enrollment --db postgresql --rows 10000
"""

import argparse
import io
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.table import Row, own_peak_mb, reset_own_peak


def build_csv(rows: int) -> bytes:
    lines = ["email,name,role,courses"]
    lines += [f"researcher{n}@uni.example,Researcher {n},learner," for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def measure(database_url: str, rows: int, workdir: Path) -> dict:
    import flask_migrate

    from lms import create_app
    from lms.accounts import services as accounts
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.memberships import services

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "MAIL_DIR": str(workdir / "mail"),
            "INVITATION_CSV_MAX_ROWS": rows,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        admin = accounts.register_user(
            "bench-admin@uni.example",
            "bench admin passphrase",
            "B",
            is_platform_admin=True,
            verified=True,
        )
        organization = services.create_organization(admin, {"slug": "bench", "name": "Bench U"})
        services.record_grant(
            organization,
            admin,
            seats=rows,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=365),
        )
        _, token = accounts.create_api_token(admin, "bench", None)
        db.session.commit()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    data = build_csv(rows)
    timings = {}
    reset_own_peak()
    for label, query in (("preview", "?dry_run=true"), ("apply", "")):
        start = time.perf_counter()
        response = client.post(
            f"/api/v1/organizations/bench/invitations/import{query}",
            data={"file": (io.BytesIO(data), "people.csv")},
            content_type="multipart/form-data",
            headers=headers,
        )
        timings[label] = time.perf_counter() - start
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.json["created"] == rows, response.json["rejected"]
    timings["peak_mb"] = own_peak_mb()
    timings["mails"] = len(list((workdir / "mail").glob("*.eml")))
    with app.app_context():
        db.engine.dispose()
    return timings


def run(databases: str = "both", rows: int = 10_000) -> list[tuple[str, dict]]:
    """(database, timings) for each database."""
    results = []
    if databases in ("postgresql", "both"):
        from bench.pgserver import postgresql

        with tempfile.TemporaryDirectory() as tmp, postgresql() as url:
            results.append(("postgresql", measure(url, rows, Path(tmp))))
    if databases in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            results.append(("sqlite", measure(url, rows, Path(tmp))))
    return results


def table_rows(results: list[tuple[str, dict]], rows: int) -> list[Row]:
    """The rows of ``python -m bench``: the issue's targets are the floors (time budgets)."""
    table = []
    for name, t in results:
        for label, key, target in (("preview", "preview", 5.0), ("apply", "apply", 15.0)):
            table.append(
                Row(f"CSV enrollment {rows:,} rows: {label}", name, t[key], target, "s",
                    goal="<= 1", floor_kind="target", peak_mb=t["peak_mb"])
            )  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    results = run(args.db, args.rows)
    print(f"{args.rows} rows")
    head = ("database", "preview (s)", "target", "apply (s)", "target", "mails")
    print("{:<12} {:>12} {:>7} {:>10} {:>7} {:>7}".format(*head))
    for name, t in results:
        row = (name, f"{t['preview']:.2f}", "< 5", f"{t['apply']:.2f}", "< 15", t["mails"])
        print("{:<12} {:>12} {:>7} {:>10} {:>7} {:>7}".format(*row))


if __name__ == "__main__":
    main()
