"""Issue 11 item 4: the learner's pages link their certificate (the PDF, the verification
page, LinkedIn), the enrollments API names it, and the organization report shows and filters
it, all from the code the certificates package keeps on the enrollment (no join), on both
databases."""

import csv
import io
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from lms.certificates import codes
from lms.progress import enrolling
from lms.progress.models import Enrollment
from tests.conftest import log_in
from tests.factories import MemberFactory, UserFactory
from tests.progress.conftest import (
    ADMIN_CHECK,
    CHART,
    DASHBOARD,
    HEADER,
    LOGGED_IN_USER,
    REPORT_PAGE,
    summary_statements,
)

BASE = "http://lms.test"


def shown(certificate) -> str:
    return codes.display(certificate.code)


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def assert_links(html: str, code: str) -> None:
    assert f'href="{BASE}/api/v1/certificates/{code}.pdf"' in html
    assert f'href="{BASE}/verify/{code}"' in html
    assert f'href="{BASE}/certificates/{code}/linkedin"' in html
    assert "Add to LinkedIn profile" in html


def stored_code(db, enrollment_id: int) -> str | None:
    return db.session.scalar(
        sa.select(Enrollment.certificate_code).where(Enrollment.id == enrollment_id)
    )


# -- the learner's pages and the API ----------------------------------------------------


def test_a_completed_enrollment_links_its_certificate(client, certificate, db):
    code = shown(certificate)
    assert stored_code(db, certificate.enrollment_id) == code

    (item,) = client.get("/api/v1/enrollments").json
    assert item["status"] == "completed"
    assert item["certificate"] == {
        "code": code,
        "pdf_url": f"{BASE}/api/v1/certificates/{code}.pdf",
        "verify_url": f"{BASE}/verify/{code}",
    }
    assert client.get(f"/api/v1/enrollments/{item['id']}").json["certificate"]["code"] == code

    assert_links(text(client.get("/dashboard")), code)
    assert_links(text(client.get("/courses/tiny-course")), code)
    # The links lead somewhere: the PDF downloads, the verification page says valid.
    assert client.get(f"/api/v1/certificates/{code}.pdf").mimetype == "application/pdf"
    assert client.get(f"/api/v1/verify/{code}").json["status"] == "valid"


def test_no_certificate_no_links(client, course, learner, org):
    log_in(client, learner)
    enrollment = client.post("/api/v1/enrollments", json={"course": "tiny-course"}).json
    assert enrollment["certificate"] is None
    assert client.get("/api/v1/enrollments").json[0]["certificate"] is None
    for page in ("/dashboard", "/courses/tiny-course"):
        assert "Add to LinkedIn profile" not in text(client.get(page))
    # Someone else's certificate is not on my course page; nor on an anonymous visitor's.
    log_in(client, UserFactory())
    assert "Add to LinkedIn profile" not in text(client.get("/courses/tiny-course"))


def test_the_course_page_shows_only_my_own_certificate(client, certificate, org):
    other = MemberFactory(organization=org, role="learner").user
    log_in(client, other)
    assert "Add to LinkedIn profile" not in text(client.get("/courses/tiny-course"))
    client.post("/api/v1/auth/logout")
    client.delete_cookie("lms_session")
    page = client.get("/courses/tiny-course")
    assert page.status_code == 200 and "Add to LinkedIn profile" not in text(page)


def test_the_linkedin_link_opens_linkedins_form_filled_in(client, certificate):
    code = shown(certificate)
    response = client.get(f"/certificates/{code.lower()}/linkedin")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == (
        "https",
        "www.linkedin.com",
        "/profile/add",
    )
    query = parse_qs(target.query)
    assert query["certId"] == [code] and query["certUrl"] == [f"{BASE}/verify/{code}"]
    assert query["organizationName"] == ["Example University OSPO"]
    assert query["issueYear"] == [str(certificate.issued_at.year)]
    # An unknown or malformed code: the friendly page, not a redirect.
    for bad in ("ABCD-EFGH-JKMN-PQRS", "nonsense"):
        missing = client.get(f"/certificates/{bad}/linkedin")
        assert missing.status_code == 404 and "Location" not in missing.headers


def test_a_reissue_moves_the_code_to_the_new_certificate(client, certificate, db):
    old = shown(certificate)
    response = client.post(f"/api/v1/certificates/{old}/reissue", json={"name": "Łukasz Nowak"})
    assert response.status_code == 201
    new = response.json["code"]
    assert new != old

    assert stored_code(db, certificate.enrollment_id) == new
    assert client.get("/api/v1/enrollments").json[0]["certificate"]["code"] == new
    for page in ("/dashboard", "/courses/tiny-course"):
        html = text(client.get(page))
        assert_links(html, new)
        assert old not in html


def test_a_revoked_certificate_keeps_its_code_and_the_verification_says_revoked(
    client, certificate, db, admin
):
    code = shown(certificate)
    log_in(client, admin)
    revoked = client.post(f"/api/v1/certificates/{code}/revoke", json={"reason": "fraud"})
    assert revoked.status_code == 200
    assert stored_code(db, certificate.enrollment_id) == code
    assert client.get(f"/api/v1/verify/{code}").json["status"] == "revoked"


def test_the_dashboard_stays_within_its_budget_with_certificates(
    client, certificate, count_queries
):
    for url, header in (("/api/v1/enrollments", 0), ("/dashboard", HEADER)):
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        assert len(statements) == LOGGED_IN_USER + DASHBOARD + header, statements


# -- the organization report ------------------------------------------------------------


def report_with_one_certificate(client, certificate, org, org_admin):
    """The learner with a certificate, and Bea enrolled without one; logged in as an admin."""
    bea = MemberFactory(organization=org, user=UserFactory(name="Bea")).user
    enrolling.enroll(bea, "tiny-course")
    log_in(client, org_admin)
    return shown(certificate)


def test_the_report_has_a_certificate_column_and_filter(client, certificate, org, org_admin):
    code = report_with_one_certificate(client, certificate, org, org_admin)
    url = "/api/v1/organizations/ospo/report"
    rows = {row["name"]: row for row in client.get(f"{url}?sort=name").json}
    assert rows["Łukasz Øster"]["certificate"] == code
    assert rows["Bea"]["certificate"] is None

    issued = client.get(f"{url}?certificate=issued").json
    assert [row["certificate"] for row in issued] == [code]
    assert [row["name"] for row in client.get(f"{url}?certificate=none").json] == ["Bea"]
    bad = client.get(f"{url}?certificate=maybe")
    assert bad.status_code == 422 and "certificate" in str(bad.json["errors"])

    for csv_url in (f"{url}?format=csv", "/organizations/ospo/report?format=csv"):
        rows = list(csv.DictReader(io.StringIO(client.get(csv_url).get_data(as_text=True))))
        assert {row["name"]: row["certificate"] for row in rows} == {
            "Łukasz Øster": code,
            "Bea": "",
        }
    issued_csv = client.get(f"{url}?format=csv&certificate=issued").get_data(as_text=True)
    assert code in issued_csv and "Bea" not in issued_csv


def test_the_report_page_shows_and_filters_certificates(
    client, certificate, org, org_admin, db, count_queries
):
    code = report_with_one_certificate(client, certificate, org, org_admin)
    with count_queries() as statements:
        page = client.get("/organizations/ospo/report")
    html = text(page)
    assert page.status_code == 200
    assert '<th scope="col">Certificate</th>' in html and f'<td class="nowrap">{code}</td>' in html
    assert len(statements) == (
        LOGGED_IN_USER + ADMIN_CHECK + REPORT_PAGE + summary_statements(db) + CHART + HEADER
    )
    with count_queries() as filtered_statements:
        issued = text(client.get("/organizations/ospo/report?certificate=issued"))
    assert len(filtered_statements) == len(statements)
    assert f'<td class="nowrap">{code}</td>' in issued and "<td>Bea</td>" not in issued
    assert '<option value="issued" selected>' in issued
    none = text(client.get("/organizations/ospo/report?certificate=none"))
    assert "<td>Bea</td>" in none and code not in none
    assert client.get("/organizations/ospo/report?certificate=maybe").status_code == 422


def test_the_report_api_budget_is_unchanged_by_the_filter(
    client, certificate, org, org_admin, count_queries
):
    report_with_one_certificate(client, certificate, org, org_admin)
    with count_queries() as statements:
        response = client.get("/api/v1/organizations/ospo/report?certificate=issued")
    assert len(response.json) == 1
    assert len(statements) == LOGGED_IN_USER + ADMIN_CHECK + REPORT_PAGE
