"""Benchmark: progress on PostgreSQL with 10,000 learners x 2 courses x 40 lessons.

Builds the data set on a private PostgreSQL, then, in one run and under the same gunicorn
settings (sync workers, 2 x cores + 1), loads lms and the floor app (bench/floor_app.py: the
same database work with no auth, validation or framework of ours) with wrk, a load generator
running as its own process. Prints requests/s, p50 and p99 for each, and lms / floor.

Targets (issue 5): mark complete and dashboard >= 0.8 x floor; report page of 50 rows >= 0.8 x
floor with p99 < 100 ms; organization summary < 30 ms median; CSV export of 20,000 rows < 3 s
with flat memory.

    .venv/bin/python -m bench.progress_bench                # about 4 minutes
    .venv/bin/python -m bench.progress_bench --learners 2000 --seconds 3 --rounds 1
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKERS = str(2 * (os.cpu_count() or 2) + 1)
PASSWORD_HASH = "pbkdf2:sha256:1000$bench$0"  # noqa: S105 (unusable on purpose; tokens are used)


def build(url: str, learners: int, token_users: int, workdir: Path) -> dict:
    import flask_migrate
    import sqlalchemy as sa

    from bench.course_import import generate_course
    from lms import create_app
    from lms.accounts.models import ApiToken, User
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.core.tokens import hash_secret
    from lms.courses import services as courses
    from lms.courses.models import Course, Lesson
    from lms.memberships import services as memberships
    from lms.memberships.models import OrganizationMember
    from lms.progress.models import Enrollment, LessonProgress

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    rng = random.Random(5)
    with app.app_context():
        flask_migrate.upgrade()
        versions = []
        for n in (1, 2):
            folder = generate_course(workdir / f"c{n}", modules=4, lessons_per_module=9)
            (folder / "course.yaml").write_text(
                (folder / "course.yaml").read_text().replace("bench-course", f"bench-course-{n}")
            )
            versions.append(courses.import_course_folder(folder, publish=True).version)
        lessons = {
            v.id: db.session.scalars(
                sa.select(Lesson).where(Lesson.version_id == v.id).order_by(Lesson.position)
            ).all()
            for v in versions
        }
        org = memberships.create_organization(None, {"slug": "bench-u", "name": "Bench U"})
        memberships.record_grant(
            org,
            None,
            seats=learners,
            starts_at=utcnow() - timedelta(days=400),
            ends_at=utcnow() + timedelta(days=365),
        )
        now = utcnow()
        db.session.execute(
            sa.insert(User),
            [
                {
                    "email": f"learner{n:05d}@bench.example",
                    # Names in an order unrelated to ids, as in life: the name sort must not
                    # get the enrollment order for free.
                    "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n:05d}",
                    "password_hash": PASSWORD_HASH,
                    "is_platform_admin": False,
                    "session_epoch": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(learners)
            ],
        )
        admin = User(email="admin@bench.example", name="Bench admin", password_hash=PASSWORD_HASH)
        db.session.add(admin)
        db.session.flush()
        learner_rows = db.session.execute(
            sa.select(User.id, User.name, User.email)
            .where(User.email.like("learner%"))
            .order_by(User.id)
        ).all()
        user_ids = [row.id for row in learner_rows]
        people = {row.id: (row.name, row.email) for row in learner_rows}
        course_slugs = {
            v.id: db.session.scalar(sa.select(Course.slug).where(Course.id == v.course_id))
            for v in versions
        }
        db.session.execute(
            sa.insert(OrganizationMember),
            [
                {
                    "organization_id": org.id,
                    "user_id": uid,
                    "role": "learner",
                    "status": "active",
                    "holds_seat": True,  # an active learner holds a seat (a check constraint)
                    "joined_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for uid in user_ids
            ]
            + [
                {
                    "organization_id": org.id,
                    "user_id": admin.id,
                    "role": "admin",
                    "status": "active",
                    "holds_seat": False,
                    "joined_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        enrollment_rows, done_counts = [], []
        for uid in user_ids:
            for version in versions:
                items = lessons[version.id]
                done = rng.randint(0, len(items))
                started = now - timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 999))
                finished = (
                    started + timedelta(days=rng.randint(0, 30)) if done == len(items) else None
                )
                enrollment_rows.append(
                    {
                        "user_id": uid,
                        "learner_name": people[uid][0],
                        "learner_email": people[uid][1],
                        "course_slug": course_slugs[version.id],
                        "organization_id": org.id,
                        "course_id": version.course_id,
                        "version_id": version.id,
                        "status": "completed" if finished else "active",
                        "started_at": started,
                        "completed_at": finished,
                        "last_activity_at": finished or started + timedelta(days=1),
                        "lessons_done": sum(1 for i in items[:done] if i.kind == "lesson"),
                        "quizzes_passed": sum(1 for i in items[:done] if i.kind == "quiz"),
                        "required_total": len(items),
                        "required_done": done,
                        "percent_complete": done * 100 // len(items),
                        "resume_lesson_id": items[min(done, len(items) - 1)].id,
                    }
                )
                done_counts.append((version.id, done))
        ids = db.session.scalars(
            sa.insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True),
            enrollment_rows,
        ).all()
        batch = []
        for enrollment_id, (version_id, done), row in zip(
            ids, done_counts, enrollment_rows, strict=True
        ):
            for item in lessons[version_id][:done]:
                batch.append(
                    {
                        "enrollment_id": enrollment_id,
                        "lesson_id": item.id,
                        "status": "completed",
                        "first_viewed_at": row["started_at"],
                        "completed_at": row["started_at"],
                        "time_spent_seconds": 300,
                        "updated_at": row["started_at"],
                    }
                )
            if len(batch) > 20_000:
                db.session.execute(sa.insert(LessonProgress), batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(LessonProgress), batch)
        tokens = {}
        for n, uid in enumerate([admin.id, *user_ids[:token_users]]):
            raw = f"lms_bench-{n:05d}-{rng.getrandbits(64):016x}"
            db.session.add(
                ApiToken(
                    user_id=uid, name="bench", token_hash=hash_secret(raw), token_prefix=raw[:10]
                )
            )
            tokens[uid] = raw
        db.session.commit()
        by_user: dict[int, list[tuple[int, int]]] = {}
        for enrollment_id, row in zip(ids, enrollment_rows, strict=True):
            by_user.setdefault(row["user_id"], []).append((enrollment_id, row["version_id"]))
        progress_rows = db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress))
        db.session.commit()
        # As a running database would be: statistics fresh, visibility map set.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        info = {
            "org_id": org.id,
            "org_slug": org.slug,
            "admin_token": tokens.pop(admin.id),
            "tokens": tokens,
            "by_user": by_user,
            "enrollments": len(ids),
            "progress_rows": progress_rows,
            "slugs": {vid: [item.slug for item in items] for vid, items in lessons.items()},
        }
        db.engine.dispose()
    return info


LUA = """
local entries = {}
for line in io.lines("%(path)s") do
  local method, path, token = line:match("([^\\t]+)\\t([^\\t]+)\\t?(.*)")
  table.insert(entries, {method, path, token})
end
local body = '{"status": "completed"}'
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  local e = entries[math.random(#entries)]
  local headers = {}
  if e[3] ~= "" then headers["Authorization"] = "Bearer " .. e[3] end
  if e[1] == "PUT" then
    headers["Content-Type"] = "application/json"
    return wrk.format("PUT", e[2], headers, body)
  end
  return wrk.format(e[1], e[2], headers)
end
"""


FIRST_NAMES = [
    "Ada",
    "Bao",
    "Chidi",
    "Dana",
    "Elif",
    "Farah",
    "Goran",
    "Hana",
    "Ines",
    "Jon",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Yuki",
]
LAST_NAMES = ["Abara", "Berg", "Costa", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ivanova",
              "Jensen", "Kim", "Lopez", "Müller", "Nakamura", "Okafor", "Petrov", "Rossi", "Singh",
              "Tanaka", "Weber"]  # fmt: skip
# The report's sort orders (the API's ``sort`` values) and the scenario name of each.
REPORT_ORDERS = {
    "report page (50)": "enrolled",
    "report by name": "name",
    "report by email": "email",
    "report by course": "course",
    "report by percent": "percent",
    "report by started": "started",
    "report by activity": "last_activity",
    "report by completed": "completed",
}


def requests_for(info: dict, scenario: str, floor: bool, rng: random.Random) -> list[str]:
    lines = []
    users = list(info["tokens"].items())
    pages = max(1, info["enrollments"] // 50)
    for _ in range(2000):
        uid, token = rng.choice(users)
        if scenario == "mark complete":
            enrollment_id, version_id = rng.choice(info["by_user"][uid])
            slug = rng.choice([s for s in info["slugs"][version_id] if not s.startswith("quiz")])
            path = (
                f"/floor/enrollments/{enrollment_id}/lessons/{slug}/progress"
                if floor
                else f"/api/v1/enrollments/{enrollment_id}/lessons/{slug}/progress"
            )
            lines.append(f"PUT\t{path}\t{token}")
        elif scenario == "dashboard":
            path = "/floor/enrollments" if floor else "/api/v1/enrollments"
            lines.append(f"GET\t{path}\t{token}")
        elif scenario.startswith("report"):
            page = rng.randint(1, pages)
            # Both directions of each order, as people click a column twice.
            direction = rng.choice(["", "-"])
            query = f"page={page}&page_size=50&sort={direction}{REPORT_ORDERS[scenario]}"
            path = (
                f"/floor/organizations/{info['org_id']}/report?{query}"
                if floor
                else f"/api/v1/organizations/{info['org_slug']}/report?{query}"
            )
            lines.append(f"GET\t{path}\t{info['admin_token']}")
    return lines


def wrk(port: int, script: Path, seconds: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c8",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    out = out.stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def serve(app_path: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            WORKERS,
            "-k",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            app_path,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
            return server
        except OSError as exc:
            if getattr(exc, "code", None) == 404:  # the floor has no /healthz: it is up
                return server
            time.sleep(0.2)
    raise RuntimeError(f"{app_path} did not start; see {log}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary_median(port: int, info: dict, count: int = 200) -> float:
    url = f"http://127.0.0.1:{port}/api/v1/organizations/{info['org_slug']}/report/summary"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {info['admin_token']}"}
    )
    times = []
    for _ in range(count):
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:  # noqa: S310 (loopback)
            response.read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def csv_export(port: int, info: dict) -> tuple[float, int]:
    """(seconds, rows) for the whole organization's CSV, over HTTP."""
    url = f"http://127.0.0.1:{port}/api/v1/organizations/{info['org_slug']}/report?format=csv"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {info['admin_token']}"}
    )
    start = time.perf_counter()
    rows = 0
    with urllib.request.urlopen(request) as response:  # noqa: S310 (loopback)
        for _line in response:
            rows += 1
    return time.perf_counter() - start, rows - 1


def export_memory(url: str, info: dict) -> tuple[int, int]:
    """Peak Python memory (KiB) while streaming the whole CSV vs. one course's half of it."""
    import tracemalloc

    from lms import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['admin_token']}"}
    peaks = []
    for query in ("format=csv&course=bench-course-1", "format=csv"):
        tracemalloc.start()
        response = client.get(
            f"/api/v1/organizations/{info['org_slug']}/report?{query}",
            headers=headers,
            buffered=False,
        )
        for _chunk in response.response:
            pass
        response.close()
        peaks.append(tracemalloc.get_traced_memory()[1] // 1024)
        tracemalloc.stop()
    return peaks[0], peaks[1]


def run(learners: int = 10_000, seconds: int = 5, rounds: int = 3, token_users: int = 300):
    """Every measurement, as a dict (``report`` prints it as this bench always has)."""
    from bench.pgserver import postgresql
    from bench.table import peak_of_tree_mb

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, postgresql("lms_progress_bench") as url:
        workdir = Path(tmp)
        started = time.perf_counter()
        info = build(url, learners, token_users, workdir)
        print(
            f"data: {learners} learners, {info['enrollments']} enrollments, "
            f"{info['progress_rows']} progress rows ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        env = {
            **os.environ,
            "LMS_ENV": "production",
            "LMS_SECRET_KEY": "bench-" + "0" * 32,  # production wants 32 bytes or more
            "LMS_SQLALCHEMY_DATABASE_URI": url,
            "LMS_BASE_URL": "http://bench.example",
            "LMS_INSTANCE_PATH": str(workdir / "instance"),
            "BENCH_DATABASE_URL": url,
        }
        ports = {"lms": free_port(), "floor": free_port()}
        servers = [
            serve("wsgi:app", ports["lms"], env, workdir / "lms.log"),
            serve("bench.floor_app:app", ports["floor"], env, workdir / "floor.log"),
        ]
        try:
            results = []
            for scenario in ("mark complete", "dashboard", *REPORT_ORDERS):
                scripts = {}
                for name in ("floor", "lms"):
                    tag = scenario.replace(" ", "-").replace("(", "").replace(")", "")
                    requests = workdir / f"{name}-{tag}.tsv"
                    requests.write_text(
                        "\n".join(requests_for(info, scenario, name == "floor", rng))
                    )
                    scripts[name] = workdir / f"{name}-{tag}.lua"
                    scripts[name].write_text(LUA % {"path": requests})
                    wrk(ports[name], scripts[name], 2)  # warm-up
                # Alternate the two apps and keep the median, so that drift on a shared
                # two-core machine (autovacuum, checkpoints) does not favour either.
                runs = {"floor": [], "lms": []}
                for _ in range(rounds):
                    for name in ("floor", "lms"):
                        runs[name].append(wrk(ports[name], scripts[name], seconds))
                measured = {
                    name: {
                        key: statistics.median(run[key] for run in values)
                        for key in ("rps", "p50", "p99")
                    }
                    | {"errors": sum(run["errors"] for run in values)}
                    for name, values in runs.items()
                }
                results.append((scenario, measured))
            median_summary = summary_median(ports["lms"], info)
            export_seconds, export_rows = csv_export(ports["lms"], info)
            lms_peak = peak_of_tree_mb(servers[0].pid)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
        half_peak, full_peak = export_memory(url, info)
    return {
        "learners": learners,
        "seconds": seconds,
        "rounds": rounds,
        "results": results,
        "summary_ms": median_summary,
        "export_seconds": export_seconds,
        "export_rows": export_rows,
        "half_peak_kib": half_peak,
        "full_peak_kib": full_peak,
        "lms_peak_mb": lms_peak,
    }


def report(r: dict) -> None:
    results, median_summary = r["results"], r["summary_ms"]
    export_seconds, export_rows = r["export_seconds"], r["export_rows"]
    half_peak, full_peak = r["half_peak_kib"], r["full_peak_kib"]
    print(
        f"gunicorn: {WORKERS} sync workers each; wrk -t2 -c8 -d{r['seconds']}s, median of "
        f"{r['rounds']} alternating runs; {os.cpu_count()} cores shared by PostgreSQL, the app "
        "and wrk"
    )
    head = ("scenario", "app", "req/s", "p50 ms", "p99 ms", "non-2xx", "lms/floor", "target")
    print("{:<20} {:<6} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}".format(*head))
    for scenario, measured in results:
        ratio = measured["lms"]["rps"] / measured["floor"]["rps"]
        for name in ("floor", "lms"):
            m = measured[name]
            print(
                "{:<20} {:<6} {:>8.0f} {:>8.1f} {:>8.1f} {:>8} {:>10} {:>8}".format(
                    scenario,
                    name,
                    m["rps"],
                    m["p50"],
                    m["p99"],
                    m["errors"],
                    f"{ratio:.2f}" if name == "lms" else "",
                    ">= 0.8" if name == "lms" else "",
                )
            )
    for scenario, measured in results:
        for name, m in measured.items():
            if m["errors"]:
                print(
                    f"WARNING: {name} answered {m['errors']} non-2xx responses in "
                    f"'{scenario}': those numbers are not valid"
                )
    print(f"organization summary: {median_summary:.1f} ms median over 200 requests (target < 30)")
    print(
        f"CSV export: {export_rows} rows in {export_seconds:.2f} s (target < 3 s); "
        f"peak Python memory {half_peak} KiB for half the rows, {full_peak} KiB for all"
    )


def table_rows(r: dict) -> list:
    """The rows of ``python -m bench``: each wrk scenario against the floor app, then the
    summary and the export against their targets."""
    from bench.table import Row

    rows = []
    for scenario, measured in r["results"]:
        lms, floor = measured["lms"], measured["floor"]
        if lms["errors"] or floor["errors"]:
            scenario += " (ERRORS)"
        rows.append(
            Row(f"progress: {scenario}", "postgresql", lms["rps"], floor["rps"], "req/s",
                goal=">= 0.8", p50=lms["p50"], p99=lms["p99"], peak_mb=r["lms_peak_mb"])
        )  # fmt: skip
    rows.append(
        Row("progress: organization summary", "postgresql", r["summary_ms"], 30.0, "ms",
            goal="<= 1", floor_kind="target", p50=r["summary_ms"], peak_mb=r["lms_peak_mb"])
    )  # fmt: skip
    rows.append(
        Row(f"progress: CSV export {r['export_rows']:,} rows", "postgresql",
            r["export_seconds"], 3.0, "s", goal="<= 1", floor_kind="target",
            peak_mb=r["lms_peak_mb"])
    )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per app")
    parser.add_argument("--token-users", type=int, default=300)
    args = parser.parse_args()
    report(run(args.learners, args.seconds, args.rounds, args.token_users))


if __name__ == "__main__":
    main()
