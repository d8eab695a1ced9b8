"""``python -m bench`` (or ``make bench``): every benchmark scenario, ours next to its floor, in
one run and one table. How to read it: bench/table.py and docs/performance.md.

    .venv/bin/python -m bench                 # everything, full size (15 to 35 minutes)
    .venv/bin/python -m bench --quick         # smaller data and shorter runs (a few minutes)
    .venv/bin/python -m bench --only csv,import --db sqlite

Each bench stays runnable alone (``python -m bench.progress_bench`` and so on) with its own
output; this command calls the same functions and collects their rows.
"""

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from bench.table import Row, format_table

SUITES = ("progress", "csv", "import", "outbox", "certificates")


def machine() -> str:
    """Cores, memory and CPU model of this machine, for the record."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def run_suite(name: str, quick: bool, databases: str) -> list[Row]:
    if name == "progress":
        from bench import progress_bench

        if databases == "sqlite":
            return []
        size = dict(learners=2000, seconds=2, rounds=1, token_users=100) if quick else {}
        return progress_bench.table_rows(progress_bench.run(**size))
    if name == "csv":
        from bench import csv_enrollment

        rows = 2000 if quick else 10_000
        return csv_enrollment.table_rows(csv_enrollment.run(databases, rows), rows)
    if name == "import":
        from bench import course_import

        return course_import.table_rows(course_import.run(databases, 1 if quick else 3))
    if name == "outbox":
        from bench import outbox_bench

        if databases == "sqlite":
            return []
        return outbox_bench.table_rows(outbox_bench.run(2000 if quick else 10_000))
    if name == "certificates":
        from bench import certificate_bench

        if databases == "sqlite":
            return []
        size = dict(runs=10, renders=100, count=100, seconds=2) if quick else {}
        return certificate_bench.table_rows(certificate_bench.run(**size))
    raise ValueError(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, shorter runs")
    parser.add_argument(
        "--only", default=",".join(SUITES), help=f"comma-separated subset of {','.join(SUITES)}"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")

    print(f"machine: {machine()}", flush=True)
    rows: list[Row] = []
    failed = []
    started = time.perf_counter()
    for name in chosen:
        print(f"--- {name}", flush=True)
        began = time.perf_counter()
        try:
            rows += run_suite(name, args.quick, args.db)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"--- {name}: {time.perf_counter() - began:.0f} s", flush=True)
    mode = "quick" if args.quick else "full"
    print(f"\n{mode} run, {time.perf_counter() - started:.0f} s; {machine()}")
    print("ratio = ours / floor; 'target' floors are the issue's budgets (see bench/table.py)\n")
    print(format_table(rows))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
