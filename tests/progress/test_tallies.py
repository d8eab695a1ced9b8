"""The enrollment tallies behind the report's totals: kept by triggers on ``enrollments``,
whichever code writes (the API, the hot-path statements, bulk and raw SQL), on both databases;
the report's totals read them, and count rows only for a search or an activity date."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.extensions import db as lms_db
from lms.progress.models import Enrollment, EnrollmentTally
from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory
from tests.progress.conftest import race_app
from tests.progress.test_reports import enroll_people, finish


def counted(db) -> dict:
    """What the tallies should say: the enrollments, grouped by the tally key."""
    certified = Enrollment.certified
    rows = db.session.execute(
        sa.select(
            Enrollment.organization_id, Enrollment.course_slug, Enrollment.status, certified,
            sa.func.count(),
        ).group_by(Enrollment.organization_id, Enrollment.course_slug, Enrollment.status,
                   certified)
    )  # fmt: skip
    return {tuple(row[:4]): row[4] for row in rows}


def tallied(db) -> dict:
    rows = db.session.scalars(sa.select(EnrollmentTally).where(EnrollmentTally.n != 0))
    return {(t.organization_id, t.course_slug, t.status, t.certified): t.n for t in rows}


def test_the_tallies_follow_every_write(app, org, course, db):
    assert tallied(db) == {}
    people = enroll_people(app, org, ["Ada", "Bea", "Cy"])
    assert tallied(db) == counted(db) == {(org.id, "tiny-course", "active", False): 3}
    finish(people[0][1], people[0][2])  # the hot-path UPDATE completes the course
    db.session.expire_all()
    assert tallied(db) == counted(db)
    # Completing issues the certificate (in-process here), which sets its code as well.
    assert tallied(db)[(org.id, "tiny-course", "completed", True)] == 1
    ada, bea = people[0][2]["id"], people[1][2]["id"]
    other = OrganizationFactory(slug="other")
    SeatGrantFactory(organization=other, seats=5)
    writes = [
        # A certificate issued, then the code replaced (no change of key), then one more.
        sa.update(Enrollment).where(Enrollment.id == ada).values(certificate_code="AAAA-BBBB"),
        sa.update(Enrollment).where(Enrollment.id == ada).values(certificate_code="CCCC-DDDD"),
        # Moved to another organization, an update of a column outside the key, a deletion.
        sa.update(Enrollment).where(Enrollment.id == bea).values(organization_id=other.id),
        sa.update(Enrollment).where(Enrollment.id == bea).values(percent_complete=50),
        sa.delete(Enrollment).where(Enrollment.id == people[2][2]["id"]),
        # Back to active and the certificate gone: both keys change at once.
        sa.update(Enrollment)
        .where(Enrollment.id == ada)
        .values(status="active", certificate_code=None),
    ]
    for write in writes:
        db.session.execute(write)
        assert tallied(db) == counted(db), write
    # A bulk insert of many rows in one statement.
    first = db.session.scalar(sa.select(Enrollment).where(Enrollment.id == ada))
    now = utcnow()
    db.session.execute(
        sa.insert(Enrollment),
        [
            {
                "user_id": UserFactory().id, "organization_id": other.id,
                "course_id": first.course_id, "version_id": first.version_id,
                "course_slug": f"bulk-{n % 2}", "status": "active",
                "started_at": now, "last_activity_at": now,
            }
            for n in range(6)
        ],
    )  # fmt: skip
    db.session.commit()
    assert tallied(db) == counted(db)
    assert tallied(db)[(other.id, "bulk-1", "active", False)] == 3


def test_report_totals_read_the_tallies_and_match_every_filter(
    app, org, course, client, db, count_queries
):
    people = enroll_people(app, org, ["Ada", "Bea", "Cy", "Dee"])
    finish(people[0][1], people[0][2])
    finish(people[1][1], people[1][2])
    # Both completed and were certified (in-process); take Bea's code away for a mix.
    bea = people[1][2]["id"]
    db.session.execute(
        sa.update(Enrollment).where(Enrollment.id == bea).values(certificate_code=None)
    )
    db.session.commit()
    log_in(client, MemberFactory(organization=org, role="admin").user)

    def total(query=""):
        response = client.get(f"/api/v1/organizations/ospo/report?page_size=1{query}")
        assert response.status_code == 200
        return json.loads(response.headers["X-Pagination"])["total"]

    assert total() == 4
    assert total("&course=tiny-course") == 4 and total("&course=other-course") == 0
    assert total("&status=completed") == 2 and total("&status=in_progress") == 2
    assert total("&certificate=issued") == 1 and total("&certificate=none") == 3
    assert total("&status=completed&certificate=none") == 1
    # A search and an activity date are not in the tallies: those rows are counted.
    assert total("&search=ada") == 1
    assert total("&active_since=2000-01-01T00:00:00Z") == 4
    assert total("&page=9") == 4  # past the end: the total still comes back

    with count_queries() as statements:
        total()
    (page,) = [sql for sql in statements if "FROM enrollments" in sql]
    assert "enrollment_tallies" in page and "count(*)" not in page, page
    with count_queries() as statements:
        total("&search=ada")
    (page,) = [sql for sql in statements if "FROM enrollments" in sql]
    assert "enrollment_tallies" not in page and "count(*)" in page, page


@pytest.mark.postgresql_only
def test_keys_changing_both_ways_at_once_neither_deadlock_nor_drift(
    backend, fresh_database_url, tmp_path
):
    """Twenty writers at once, each issuing or clearing a certificate (the tally rows of
    "issued" and "not issued" taken in opposite directions), with real commits: the triggers
    take the two rows in key order, so none deadlocks, and the tallies end exact."""
    with fresh_database_url("lms_tallies_race") as url:
        with race_app(url, tmp_path, pool_size=20) as (app, imported, org):
            now = utcnow()
            users = lms_db.session.scalars(
                sa.insert(User).returning(User.id, sort_by_parameter_order=True),
                [{"email": f"r{n}@uni.example", "name": f"R{n}", "password_hash": "x",
                  "is_platform_admin": False, "session_epoch": 0, "created_at": now,
                  "updated_at": now} for n in range(20)],
            ).all()  # fmt: skip
            ids = lms_db.session.scalars(
                sa.insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True),
                [{"user_id": uid, "organization_id": org.id, "course_id": imported.course.id,
                  "version_id": imported.version.id,
                  "course_slug": "tiny-course", "status": "completed", "started_at": now,
                  "last_activity_at": now, "certificate_code": "C" if n % 2 else None}
                 for n, uid in enumerate(users)],
            ).all()  # fmt: skip
            lms_db.session.commit()
            org_id, engine = org.id, lms_db.engine
        barrier = threading.Barrier(len(ids))
        flip = sa.text(
            "UPDATE enrollments SET certificate_code ="
            " CASE WHEN certificate_code IS NULL THEN 'C' END WHERE id = :id"
        )

        def writer(enrollment_id):
            barrier.wait()
            for _ in range(15):
                with engine.begin() as conn:
                    conn.execute(flip, {"id": enrollment_id})

        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            list(pool.map(writer, ids))  # a deadlock would raise here
        with app.app_context():
            assert tallied(lms_db) == counted(lms_db)
            # 15 flips each: the odd ones end where the even ones began, and back.
            assert tallied(lms_db) == {
                (org_id, "tiny-course", "completed", False): 10,
                (org_id, "tiny-course", "completed", True): 10,
            }
            lms_db.session.remove()
            engine.dispose()


def test_report_statements_are_built_once_per_shape_and_bound_per_request(
    app, org, course, client, db
):
    """Two organizations' reports of the same shape share one statement, bound to each
    organization's values per request: each admin sees their own rows and totals, never
    the other's."""
    from lms.progress.reports import _template

    other = OrganizationFactory(slug="other")
    SeatGrantFactory(organization=other, seats=5)
    enroll_people(app, org, ["Ada", "Bea"])
    enroll_people(app, other, ["Zed"])
    clients = {
        slug: log_in(app.test_client(), MemberFactory(organization=o, role="admin").user)
        for slug, o in (("ospo", org), ("other", other))
    }
    _template.cache_clear()
    for _ in range(2):
        for slug, names in (("ospo", ["Ada", "Bea"]), ("other", ["Zed"])):
            for query in ("sort=name", "sort=name&course=tiny-course&status=in_progress"):
                response = clients[slug].get(f"/api/v1/organizations/{slug}/report?{query}")
                assert [row["name"] for row in response.json] == names, (slug, query)
                assert json.loads(response.headers["X-Pagination"])["total"] == len(names)
    # Two shapes, each built once (a page statement); every other request bound it again.
    info = _template.cache_info()
    assert (info.misses, info.hits) == (2, 6), info
