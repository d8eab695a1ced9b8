"""Benchmark: import a generated 200-lesson course, then import it again unchanged.

Targets (issue 3): first import under 3 s, unchanged re-import under 1 s.

    .venv/bin/python -m bench.course_import            # SQLite and PostgreSQL
    .venv/bin/python -m bench.course_import --db sqlite
"""

import argparse
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

from bench.table import Row, own_peak_mb, reset_own_peak

PARAGRAPH = (
    "Open research software lets others check, reuse and extend a result. A licence says what "
    "they may do; a changelog says what changed; tests say what still works. "
)


def generate_course(root: Path, modules: int = 20, lessons_per_module: int = 9) -> Path:
    """20 modules x (9 lessons + 1 quiz) = 200 items, ~450 words and a code block each."""
    folder = root / "bench-course"
    folder.mkdir(parents=True)
    (folder / "course.yaml").write_text(
        'slug: bench-course\ntitle: Bench course\nversion: "1.0.0"\n'
        "summary: A generated course.\ntopics: [bench]\npass_mark: 70\n"
    )
    for m in range(1, modules + 1):
        mod = folder / f"{m:02d}-module-{m}"
        mod.mkdir()
        (mod / "module.yaml").write_text(f"title: Module {m}\nsummary: Part {m}.\n")
        for n in range(1, lessons_per_module + 1):
            link = f"[next]({n + 1:02d}-lesson-{m}-{n + 1}.md)" if n < lessons_per_module else ""
            body = "\n\n".join(PARAGRAPH * 3 for _ in range(6))
            (mod / f"{n:02d}-lesson-{m}-{n}.md").write_text(
                f"---\ntitle: Lesson {m}.{n}\nminutes: 8\n---\n\n## Part one\n\n{body}\n\n"
                f"```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n```\n\n{link}\n"
            )
        questions = "".join(
            textwrap.dedent(f"""
              - id: q{q}
                type: single
                prompt: Question {q}?
                choices:
                  - id: a
                    text: "Yes"
                  - id: b
                    text: "No"
                answer: a
                explanation: Because.
            """)
            for q in range(1, 6)
        )
        (mod / f"{lessons_per_module + 1:02d}-quiz-{m}.yaml").write_text(
            f"title: Quiz {m}\nquestions:{textwrap.indent(questions, '  ')}"
        )
    return folder


def measure(database_url: str, folder: Path, repeats: int = 3) -> dict:
    import flask_migrate
    import sqlalchemy as sa

    from lms import create_app
    from lms.core.extensions import db
    from lms.courses import services
    from lms.courses.models import Course, CourseAsset, CourseTopic, CourseVersion, Lesson, Module

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": True}
    )
    first, again = [], []
    reset_own_peak()
    with app.app_context():
        flask_migrate.upgrade()
        for _ in range(repeats):
            for model in (Lesson, Module, CourseTopic, CourseVersion, CourseAsset, Course):
                db.session.execute(sa.delete(model))
            db.session.commit()
            start = time.perf_counter()
            result = services.import_course_folder(folder, publish=True)
            db.session.commit()
            first.append(time.perf_counter() - start)
            assert result.created and result.version.lesson_count + result.version.quiz_count == 200
            start = time.perf_counter()
            result = services.import_course_folder(folder)
            db.session.commit()
            again.append(time.perf_counter() - start)
            assert not result.created
        db.engine.dispose()
    return {
        "first": statistics.median(first),
        "again": statistics.median(again),
        "first_p99": max(first),
        "again_p99": max(again),
        "peak_mb": own_peak_mb(),
    }


def run(databases: str = "both", repeats: int = 3) -> list[tuple[str, dict]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate_course(Path(tmp))
        if databases in ("sqlite", "both"):
            rows.append(("sqlite", measure(f"sqlite:///{tmp}/bench.sqlite3", folder, repeats)))
        if databases in ("postgresql", "both"):
            from bench.pgserver import postgresql

            with postgresql() as url:
                rows.append(("postgresql", measure(url, folder, repeats)))
    return rows


def table_rows(results: list[tuple[str, dict]]) -> list[Row]:
    """The rows of ``python -m bench``: the issue's targets are the floors (time budgets);
    p50 is the median of the repeats and p99 their slowest."""
    table = []
    for name, r in results:
        for label, key, target in (("import", "first", 3.0), ("re-import", "again", 1.0)):
            table.append(
                Row(f"course import (200 items): {label}", name, r[key], target, "s",
                    goal="<= 1", floor_kind="target", p50=r[key] * 1000,
                    p99=r[f"{key}_p99"] * 1000, peak_mb=r["peak_mb"])
            )  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    rows = run(args.db)
    print(f"{'database':<12} {'import (s)':>11} {'target':>7} {'re-import (s)':>14} {'target':>7}")
    for name, r in rows:
        print(f"{name:<12} {r['first']:>11.3f} {'< 3':>7} {r['again']:>14.3f} {'< 1':>7}")


if __name__ == "__main__":
    main()
