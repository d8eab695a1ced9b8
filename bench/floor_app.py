"""The floor: a minimal Flask + SQLAlchemy app doing the same database work as lms's hot
routes (the same SQL statements, the token lookup included) with none of lms's code around
them: no authentication checks, validation, schemas, error handling or framework of ours.
lms's numbers are reported as a ratio of this app's, measured in the same run under the same
gunicorn settings.

    BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn -w 5 bench.floor_app:app
"""

import hashlib
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy.dialects.postgresql import insert

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=5)
meta = sa.MetaData()
enrollments = sa.Table("enrollments", meta, autoload_with=engine)
lessons = sa.Table("lessons", meta, autoload_with=engine)
progress = sa.Table("lesson_progress", meta, autoload_with=engine)
users = sa.Table("users", meta, autoload_with=engine)
courses = sa.Table("courses", meta, autoload_with=engine)
versions = sa.Table("course_versions", meta, autoload_with=engine)
tokens = sa.Table("api_tokens", meta, autoload_with=engine)
organizations = sa.Table("organizations", meta, autoload_with=engine)
members = sa.Table("organization_members", meta, autoload_with=engine)
tallies = sa.Table("enrollment_tallies", meta, autoload_with=engine)


def caller(conn):
    """The same token lookup statement lms runs, with nothing checked around it."""
    raw = request.headers.get("Authorization", "").partition(" ")[2]
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return conn.execute(
        sa.select(
            users,
            tokens.c.id.label("token_id"),
            tokens.c.expires_at,
            tokens.c.revoked_at,
            tokens.c.last_used_at,
        )
        .join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == digest)
    ).first()


app = Flask(__name__)


@app.put("/floor/enrollments/<int:enrollment_id>/lessons/<slug>/progress")
def mark_complete(enrollment_id, slug):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        caller(conn)
        row = conn.execute(
            sa.select(
                enrollments.c.id,
                lessons.c.id.label("lesson_id"),
                lessons.c.position,
                lessons.c.version_id,
                lessons.c.is_required,
                lessons.c.kind,
            )
            .join(lessons, lessons.c.version_id == enrollments.c.version_id)
            .where(enrollments.c.id == enrollment_id, lessons.c.slug == slug)
        ).first()
        if row is None:
            return {"message": "not found"}, 404
        ins = insert(progress).values(
            enrollment_id=enrollment_id,
            lesson_id=row.lesson_id,
            status="completed",
            first_viewed_at=now,
            completed_at=now,
            time_spent_seconds=0,
            updated_at=now,
        )
        changed = conn.execute(
            ins.on_conflict_do_update(
                index_elements=[progress.c.enrollment_id, progress.c.lesson_id],
                set_={"status": "completed", "completed_at": now, "updated_at": now},
                where=progress.c.completed_at.is_(None),
            ).returning(progress.c.completed_at)
        ).first()
        if changed is None:
            done = conn.execute(
                sa.select(progress.c.completed_at).where(
                    progress.c.enrollment_id == enrollment_id, progress.c.lesson_id == row.lesson_id
                )
            ).scalar()
            return {"status": "completed", "completed_at": done.isoformat(), "changed": False}
        required = enrollments.c.required_done + (1 if row.is_required else 0)
        updated = conn.execute(
            sa.update(enrollments)
            .where(enrollments.c.id == enrollment_id)
            .values(
                last_activity_at=now,
                lessons_done=enrollments.c.lessons_done + 1,
                required_done=required,
                percent_complete=(required * 100) // enrollments.c.required_total,
            )
            .returning(enrollments.c.status, enrollments.c.percent_complete)
        ).first()
        return {"status": "completed", "percent_complete": updated.percent_complete}


@app.get("/floor/enrollments")
def dashboard():
    with engine.connect() as conn:
        user_id = caller(conn).id
        rows = (
            conn.execute(
                sa.select(enrollments, courses.c.slug, versions.c.title, versions.c.label)
                .join(versions, versions.c.id == enrollments.c.version_id)
                .join(courses, courses.c.id == enrollments.c.course_id)
                .where(enrollments.c.user_id == user_id)
            )
            .mappings()
            .all()
        )
    return [
        {
            "id": r["id"],
            "course": r["slug"],
            "title": r["title"],
            "version": r["label"],
            "percent_complete": r["percent_complete"],
            "status": r["status"],
        }
        for r in rows
    ]


REPORT_SORTS = {
    "enrolled": enrollments.c.id,
    "name": enrollments.c.learner_name,
    "email": enrollments.c.learner_email,
    "course": enrollments.c.course_slug,
    "percent": enrollments.c.percent_complete,
    "started": enrollments.c.started_at,
    "last_activity": enrollments.c.last_activity_at,
    "completed": enrollments.c.completed_at,
}


@app.get("/floor/organizations/<int:org_id>/report")
def report(org_id):
    """The same statement as lms: the page of ids first, then the joins for those rows, the
    total (from the tallies) a column of it."""
    page = int(request.args.get("page", 1))
    size = int(request.args.get("page_size", 50))
    sort = request.args.get("sort", "enrolled")
    key = REPORT_SORTS[sort.lstrip("-")]
    ids = sa.select(enrollments.c.id, key.label("sort_key")).where(
        enrollments.c.organization_id == org_id
    )
    descending = sort.startswith("-")
    order = (key.desc(), enrollments.c.id.desc()) if descending else (key, enrollments.c.id)
    # The page size written into the SQL, as lms does (lms.core.paging.window).
    limit = sa.literal(size, sa.Integer, literal_execute=True)
    paged = ids.order_by(*order).limit(limit).offset((page - 1) * size)
    paged = paged.subquery("page")
    total = sa.select(sa.func.coalesce(sa.func.sum(tallies.c.n), 0)).where(
        tallies.c.organization_id == org_id
    )
    rows_stmt = (
        sa.select(
            total.scalar_subquery().label("_total"),
            enrollments.c.id,
            users.c.name,
            users.c.email,
            courses.c.slug,
            versions.c.label,
            enrollments.c.percent_complete,
            enrollments.c.lessons_done,
            enrollments.c.quizzes_passed,
            enrollments.c.status,
            enrollments.c.started_at,
            enrollments.c.last_activity_at,
            enrollments.c.completed_at,
        )
        .select_from(paged)
        .join(enrollments, enrollments.c.id == paged.c.id)
        .join(users, users.c.id == enrollments.c.user_id)
        .join(courses, courses.c.id == enrollments.c.course_id)
        .join(versions, versions.c.id == enrollments.c.version_id)
        .order_by(
            *(
                (paged.c.sort_key.desc(), paged.c.id.desc())
                if descending
                else (paged.c.sort_key, paged.c.id)
            )
        )
    )
    with engine.connect() as conn:
        user = caller(conn)
        conn.execute(  # the same organization-and-role statement lms runs
            sa.select(organizations, members.c.role)
            .outerjoin(
                members,
                sa.and_(
                    members.c.organization_id == organizations.c.id,
                    members.c.user_id == user.id,
                    members.c.status == "active",
                ),
            )
            .where(organizations.c.id == org_id)
        ).first()
        rows = conn.execute(rows_stmt).mappings().all()
        # A page past the end carries no total: count it as lms does.
        total = rows[0]["_total"] if rows else conn.execute(total).scalar()
    return {
        "total": total,
        "rows": [
            {
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in r.items()
                if k != "_total"
            }
            for r in rows
        ],
    }
