"""Benchmark: certificate PDFs and verification, side by side with their floors, in one run.

1. Our render of one certificate against the floor: WeasyPrint rendering the same final HTML
   (same options, the credential attached) with nothing else: no Jinja, no QR code, no
   fetcher of ours, no shared FontConfiguration. CPU ms per certificate, warm, median.
2. ``flask lms certificates render --all --workers 2`` over 1,000 certificates (a fresh
   PostgreSQL), wall seconds.
3. Memory of one renderer over 1,000 renders (RSS after a warm-up, then every 250).
4. ``GET /api/v1/verify/{code}`` against a minimal Flask endpoint doing the same indexed
   lookup (bench/certificate_floor_app.py), both under gunicorn with wrk.

Targets (issue 11): within 1.2 x the floor; < 100 ms CPU warm; 1,000 in < 60 s with 2 workers;
memory flat (+-10 MB); verification >= 0.8 x the floor.

    .venv/bin/python -m bench.certificate_bench            # about two minutes
    .venv/bin/python -m bench.certificate_bench --renders 200 --count 200 --seconds 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.pgserver import postgresql
from bench.progress_bench import BIN, ROOT, free_port, serve, wrk
from bench.table import Row, own_peak_mb, peak_of_tree_mb, reset_own_peak

WRK_SCRIPT = """
codes = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "%s" .. codes[(i %% #codes) + 1])
end
"""


def sample_data(n: int = 0):
    from lms.certificates.rendering import CertificateData

    now = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    return CertificateData(
        code=f"ABCD-EFGH-JKMN-{n:04d}",
        verify_url=f"https://lms.example.org/verify/ABCD-EFGH-JKMN-{n:04d}",
        learner_name=f"Łukasz Øster Nguyễn {n}",
        course_title="Open Source Foundations for Research Software",
        version_label="2026.1",
        content_hash="c0ffee" * 10 + "abcd",
        organization_name="Example University Open Source Program Office",
        completed_at=now,
        issued_at=now + timedelta(minutes=5),
    )


CREDENTIAL = json.dumps({"type": ["VerifiableCredential"], "pad": "x" * 3000}).encode()


def cpu_ms(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return times


def render_vs_floor(runs: int) -> dict:
    from weasyprint import HTML, Attachment

    from lms.certificates.rendering import ATTACHMENT_NAME, PDF_VARIANT, CertificateRenderer

    renderer = CertificateRenderer()
    data = sample_data()
    final_html = renderer.html(data)

    def ours():
        renderer.render(data, CREDENTIAL)

    def floor():
        attachment = Attachment(string=CREDENTIAL, name=ATTACHMENT_NAME, relationship="Data")
        HTML(string=final_html, base_url=renderer.base_url).write_pdf(
            pdf_variant=PDF_VARIANT, attachments=[attachment]
        )

    for _ in range(5):  # warm both
        ours()
        floor()
    mine, base = [], []
    for _ in range(runs):  # alternate, so drift hits both alike
        mine += cpu_ms(ours, 1)
        base += cpu_ms(floor, 1)
    ratios = [a / b for a, b in zip(mine, base, strict=True)]
    return {
        "ours_ms": statistics.median(mine),
        "ours_p99_ms": sorted(mine)[max(0, round(0.99 * len(mine)) - 1)],
        "floor_ms": statistics.median(base),
        "ratio": statistics.median(ratios),
        "size_kb": len(renderer.render(data, CREDENTIAL)) / 1024,
    }


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_over(renders: int) -> list[tuple[int, float]]:
    from lms.certificates.rendering import CertificateRenderer

    renderer = CertificateRenderer()
    for n in range(20):
        renderer.render(sample_data(n), CREDENTIAL)
    points = [(0, rss_mb())]
    for n in range(1, renders + 1):
        renderer.render(sample_data(n), CREDENTIAL)  # a different name every time
        if n % 250 == 0 or n == renders:
            points.append((n, rss_mb()))
    return points


def seed(url: str, count: int, workdir: Path) -> list[str]:
    """A migrated database with ``count`` certificates without PDFs; their codes."""
    import flask_migrate

    from lms import create_app
    from lms.accounts.models import User
    from lms.certificates import codes
    from lms.certificates.models import Certificate
    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.courses import services as courses
    from lms.memberships.models import Organization
    from lms.progress.models import Enrollment

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" * 8, "BASE_URL": "https://x"}
    )
    with app.app_context():
        flask_migrate.upgrade()
        version = courses.import_course_folder(
            ROOT / "content" / "open-source-foundations", publish=True
        ).version
        org = Organization(slug="bench", name="Bench University OSPO")
        db.session.add(org)
        users = [User(email=f"l{i}@uni.example", name=f"Learner Ł{i}") for i in range(count)]
        db.session.add_all(users)
        db.session.flush()
        now = utcnow()
        enrollments = [
            Enrollment(
                user_id=u.id,
                organization_id=org.id,
                course_id=version.course_id,
                version_id=version.id,
                learner_name=u.name,
                learner_email=u.email,
                course_slug=version.course.slug,
                status="completed",
                completed_at=now,
            )
            for u in users
        ]
        db.session.add_all(enrollments)
        db.session.flush()
        made = []
        for i, (user, enrollment) in enumerate(zip(users, enrollments, strict=True)):
            code = codes.new_code()
            made.append(code)
            db.session.add(
                Certificate(
                    code=code,
                    enrollment_id=enrollment.id,
                    user_id=user.id,
                    organization_id=org.id,
                    course_id=version.course_id,
                    version_id=version.id,
                    learner_name=user.name,
                    learner_email=user.email,
                    course_slug=version.course.slug,
                    course_title=version.title,
                    version_label=version.label,
                    content_hash=version.content_hash,
                    organization_name=org.name,
                    completed_at=now,
                    status_index=i + 1,
                )
            )
        db.session.commit()
        db.engine.dispose()
    return made


def bulk_render(url: str, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers), start-up included."""
    import resource

    env = {**os.environ, "LMS_SQLALCHEMY_DATABASE_URI": url, "FLASK_APP": "wsgi:app"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "flask"), "lms", "certificates", "render", "--all", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def wrk_run(port: int, path_prefix: str, codes: list[str], seconds: int, workdir: Path) -> dict:
    """wrk's req/s, p50 and p99 (ms); an error answer makes the run invalid."""
    script = workdir / f"verify-{port}.lua"
    quoted = ", ".join(f'"{c}"' for c in codes)
    script.write_text(WRK_SCRIPT % (quoted, path_prefix))
    result = wrk(port, script, seconds)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} errors under load on port {port}")
    return result


def wrk_rps(port: int, path_prefix: str, codes: list[str], seconds: int, workdir: Path) -> float:
    return wrk_run(port, path_prefix, codes, seconds, workdir)["rps"]


def verification_vs_floor(url: str, codes: list[str], seconds: int, workdir: Path) -> dict:
    from lms.certificates.codes import display

    env = {
        **os.environ,
        "LMS_SQLALCHEMY_DATABASE_URI": url,
        "LMS_SECRET_KEY": "bench-" * 8,
        "LMS_CERTIFICATE_VERIFY_PER_ADDRESS": "100000000 per minute",  # checked, never hit
        "BENCH_DATABASE_URL": url,
    }
    shown = [display(c) for c in codes[:200]]
    ports = {"lms": free_port(), "floor": free_port()}
    servers = [
        serve("wsgi:app", ports["lms"], env, workdir / "lms.log"),
        serve("bench.certificate_floor_app:app", ports["floor"], env, workdir / "floor.log"),
    ]
    try:
        prefixes = {"lms": "/api/v1/verify/", "floor": "/floor/verify/"}
        for name in ports:
            wrk_rps(ports[name], prefixes[name], shown, 2, workdir)  # warm-up
        runs = {"lms": [], "floor": []}
        for _ in range(3):
            for name in ports:
                runs[name].append(wrk_run(ports[name], prefixes[name], shown, seconds, workdir))
        peak = peak_of_tree_mb(servers[0].pid)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    lms = statistics.median(run["rps"] for run in runs["lms"])
    floor = statistics.median(run["rps"] for run in runs["floor"])
    return {
        "lms_rps": lms,
        "floor_rps": floor,
        "ratio": lms / floor,
        "p50": statistics.median(run["p50"] for run in runs["lms"]),
        "p99": statistics.median(run["p99"] for run in runs["lms"]),
        "peak_mb": peak,
    }


def run(runs: int = 40, renders: int = 1000, count: int = 1000, seconds: int = 10, report=None):
    """Every measurement, as a dict; ``report(text)`` is told each result as it comes."""
    report = report or (lambda text: None)
    reset_own_peak()
    result = {"runs": runs, "renders": renders, "count": count, "seconds": seconds}
    result["render"] = render = render_vs_floor(runs)
    report(
        f"render, CPU per certificate (warm, median of {runs}): ours "
        f"{render['ours_ms']:.1f} ms, floor {render['floor_ms']:.1f} ms, ratio "
        f"{render['ratio']:.2f} x; PDF {render['size_kb']:.1f} KB"
    )
    result["points"] = points = memory_over(renders)
    result["render_peak_mb"] = own_peak_mb()
    report(
        "renderer RSS over renders: "
        + ", ".join(f"{n}: {mb:.1f} MB" for n, mb in points)
        + f" (change {points[-1][1] - points[0][1]:+.1f} MB)"
    )
    with tempfile.TemporaryDirectory() as tmp, postgresql("lms_cert_bench") as url:
        workdir = Path(tmp)
        codes = seed(url, count, workdir)
        result["bulk_seconds"], cpu = bulk_render(url, 2)
        report(
            f"flask lms certificates render --all --workers 2: {count} certificates in "
            f"{result['bulk_seconds']:.1f} s wall, {cpu:.1f} s CPU ({cpu / count * 1000:.0f} ms "
            "CPU each, start-up included)"
        )
        result["verify"] = verify = verification_vs_floor(url, codes, seconds, workdir)
        report(
            f"GET /api/v1/verify/{{code}} (PostgreSQL, gunicorn, wrk -t2 -c8 -d{seconds}s, "
            f"median of 3): lms {verify['lms_rps']:.0f} req/s, floor {verify['floor_rps']:.0f} "
            f"req/s, ratio {verify['ratio']:.2f}"
        )
    return result


def table_rows(r: dict) -> list[Row]:
    """The rows of ``python -m bench``."""
    render, verify = r["render"], r["verify"]
    return [
        Row("certificate render, CPU per PDF", "-", render["ours_ms"], render["floor_ms"], "ms",
            goal="<= 1.2", p50=render["ours_ms"], p99=render["ours_p99_ms"],
            peak_mb=r["render_peak_mb"]),
        Row(f"certificates render --all, {r['count']:,}", "postgresql", r["bulk_seconds"],
            60.0 * r["count"] / 1000, "s", goal="<= 1", floor_kind="target"),
        Row("GET /api/v1/verify/{code}", "postgresql", verify["lms_rps"], verify["floor_rps"],
            "req/s", goal=">= 0.8", p50=verify["p50"], p99=verify["p99"],
            peak_mb=verify["peak_mb"]),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40, help="renders per side for the ratio")
    parser.add_argument("--renders", type=int, default=1000, help="renders for the memory check")
    parser.add_argument("--count", type=int, default=1000, help="certificates for the bulk run")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    args = parser.parse_args()
    run(args.runs, args.renders, args.count, args.seconds, report=lambda t: print(t, flush=True))


if __name__ == "__main__":
    sys.exit(main())
