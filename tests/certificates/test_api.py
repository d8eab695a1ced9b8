"""The certificate API and pages: who sees what, the error shape, verification, revocation,
reissue and the rate limit, on both databases."""

import sqlalchemy as sa

from lms.certificates import codes
from lms.certificates.models import Certificate
from tests.certificates.conftest import complete_course
from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory, UserFactory


def shown(certificate) -> str:
    return codes.display(certificate.code)


def assert_error(response, code):
    assert response.status_code == code, response.get_data(as_text=True)[:500]
    assert response.json["code"] == code and response.json["message"]


# -- lists ------------------------------------------------------------------------------


def test_my_certificates(client, certificate, learner):
    response = client.get("/api/v1/certificates")
    assert response.status_code == 200
    (item,) = response.json
    assert item["code"] == shown(certificate)
    assert item["course"] == "tiny-course" and item["status"] == "valid"
    assert item["verification_url"] == f"http://lms.test/verify/{shown(certificate)}"
    assert item["pdf_url"] == f"http://lms.test/api/v1/certificates/{shown(certificate)}.pdf"
    assert item["linkedin_url"].startswith("https://www.linkedin.com/profile/add?")
    assert "learner_email" not in item and "email" not in str(item).lower()
    assert response.headers["X-Pagination"]

    log_in(client, UserFactory())
    assert client.get("/api/v1/certificates").json == []


def test_an_organization_s_certificates_for_its_admins_only(client, certificate, org, org_admin):
    log_in(client, org_admin)
    response = client.get("/api/v1/certificates?organization=ospo")
    assert [item["code"] for item in response.json] == [shown(certificate)]

    learner = MemberFactory(organization=org, role="learner").user
    log_in(client, learner)
    assert_error(client.get("/api/v1/certificates?organization=ospo"), 403)

    other = MemberFactory(organization=OrganizationFactory(), role="admin").user
    log_in(client, other)
    assert_error(client.get("/api/v1/certificates?organization=ospo"), 404)


def test_lists_need_a_login_and_refuse_unknown_filters(client, db):
    assert_error(client.get("/api/v1/certificates"), 401)
    log_in(client, UserFactory())
    assert_error(client.get("/api/v1/certificates?status=valid"), 422)


# -- the PDF ----------------------------------------------------------------------------


def test_the_owner_and_the_organization_s_admins_download_the_pdf(
    client, certificate, learner, org_admin, admin
):
    for reader in (learner, org_admin, admin):
        log_in(client, reader)
        response = client.get(f"/api/v1/certificates/{certificate.code.lower()}.pdf")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert "attachment" in response.headers["Content-Disposition"]


def test_someone_else_s_pdf_is_not_found(client, certificate, org):
    path = f"/api/v1/certificates/{shown(certificate)}.pdf"
    outsiders = [
        UserFactory(),
        MemberFactory(organization=org, role="learner").user,  # same organization, not admin
        MemberFactory(organization=OrganizationFactory(), role="admin").user,
    ]
    for outsider in outsiders:
        log_in(client, outsider)
        assert_error(client.get(path), 404)
    assert_error(client.get("/api/v1/certificates/NOPE.pdf"), 404)


def test_a_download_before_the_render_renders_it_on_the_spot(client, db, certificate):
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(pdf=None, pdf_rendered_at=None)
    )
    db.session.flush()
    response = client.get(f"/api/v1/certificates/{shown(certificate)}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    db.session.expire_all()
    stored = db.session.get(Certificate, certificate.id)
    assert stored.pdf_rendered_at is not None and stored.pdf.startswith(b"%PDF-")


# -- verification -----------------------------------------------------------------------


def test_verification_of_a_valid_certificate_shows_no_email(client, certificate, learner):
    client.delete_cookie("lms_session")
    response = client.get(f"/api/v1/verify/{certificate.code.lower()}")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "valid" and body["code"] == shown(certificate)
    assert body["learner_name"] == "Łukasz Øster" and body["course"] == "tiny-course"
    assert body["organization"] == "Example University OSPO"
    assert body["version"] and body["issued_at"]
    assert learner.email not in response.get_data(as_text=True)

    page = client.get(f"/verify/{shown(certificate)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Valid." in html and "Łukasz Øster" in html and learner.email not in html


def test_unknown_and_malformed_codes(client, db):
    for code in ("0000-0000-0000-0000", "not-a-code", "A" * 300, "%F0%9F%98%80"):
        assert_error(client.get(f"/api/v1/verify/{code}"), 404)
        page = client.get(f"/verify/{code}")
        assert page.status_code == 404
        assert "No certificate has the code" in page.get_data(as_text=True)


def test_the_lookup_form_accepts_any_case_and_dashes(client, certificate):
    assert "Certificate code" in client.get("/verify").get_data(as_text=True)
    typed = certificate.code.lower()[:8] + " " + certificate.code.lower()[8:]
    response = client.get(f"/verify?code={typed}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{shown(certificate)}")
    bad = client.get("/verify?code=ABCD")
    assert bad.status_code == 404 and "not a certificate code" in bad.get_data(as_text=True)


def test_verification_is_rate_limited_per_address(client, certificate, app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_PER_ADDRESS", "3 per minute")
    path = f"/api/v1/verify/{shown(certificate)}"
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    assert_error(client.get(path), 429)
    other = client.get(path, environ_overrides={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200


def test_the_api_and_the_pages_share_one_verification_budget(client, certificate, app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATE_VERIFY_PER_ADDRESS", "4 per minute")
    code = shown(certificate)
    statuses = [
        client.get(f"/api/v1/verify/{code}").status_code,
        client.get(f"/verify/{code}").status_code,
        client.get(f"/verify?code={code}").status_code,
        client.get(f"/api/v1/verify/{code}").status_code,
    ]
    assert statuses == [200, 200, 302, 200]
    page = client.get(f"/verify/{code}")
    assert page.status_code == 429 and 0 < int(page.headers["Retry-After"]) <= 60
    assert "Too many attempts" in page.get_data(as_text=True)


def test_verification_is_not_limited_with_rate_limiting_switched_off(
    make_app, certificate, monkeypatch
):
    from lms.core.extensions import limiter

    monkeypatch.setattr(limiter, "_limiter", None)
    monkeypatch.setattr(limiter, "_storage", None)
    other = make_app(RATELIMIT_ENABLED=False, CERTIFICATE_VERIFY_PER_ADDRESS="1 per minute")
    client = other.test_client()
    path = f"/api/v1/verify/{shown(certificate)}"
    assert {client.get(path).status_code for _ in range(5)} == {200}


# -- revocation -------------------------------------------------------------------------


def test_revoke_then_reinstate(client, certificate, admin):
    log_in(client, admin)
    base = f"/api/v1/certificates/{shown(certificate)}"
    response = client.post(f"{base}/revoke", json={"reason": "Plagiarised quiz answers"})
    assert response.status_code == 200 and response.json["status"] == "revoked"

    verification = client.get(f"/api/v1/verify/{shown(certificate)}").json
    assert verification["status"] == "revoked"
    assert verification["revocation_reason"] == "Plagiarised quiz answers"
    assert verification["revoked_at"]
    page = client.get(f"/verify/{shown(certificate)}").get_data(as_text=True)
    assert "Revoked" in page and "Plagiarised quiz answers" in page

    assert_error(client.post(f"{base}/revoke", json={"reason": "again"}), 409)
    response = client.post(f"{base}/reinstate", json={"reason": "Appeal upheld"})
    assert response.status_code == 200 and response.json["status"] == "valid"
    assert_error(client.post(f"{base}/reinstate", json={}), 409)


def test_revoking_needs_a_reason(client, certificate, admin):
    log_in(client, admin)
    path = f"/api/v1/certificates/{shown(certificate)}/revoke"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "a\u0000b"}):
        response = client.post(path, json=body)
        assert_error(response, 422)
        assert "reason" in response.json["errors"]
    assert client.get(f"/api/v1/verify/{shown(certificate)}").json["status"] == "valid"


def test_only_platform_admins_revoke(client, certificate, learner, org_admin):
    path = f"/api/v1/certificates/{shown(certificate)}/revoke"
    for user in (learner, org_admin):
        log_in(client, user)
        assert_error(client.post(path, json={"reason": "no"}), 403)
    assert_error(client.post("/api/v1/certificates/NOPE/revoke", json={"reason": "x"}), 403)


def test_revoking_an_unknown_code_is_not_found(client, db, admin):
    log_in(client, admin)
    assert_error(client.post("/api/v1/certificates/NOPE/revoke", json={"reason": "x"}), 404)


# -- reissue ----------------------------------------------------------------------------


def test_the_owner_reissues_under_a_new_name(client, certificate):
    path = f"/api/v1/certificates/{shown(certificate)}/reissue"
    response = client.post(path, json={"name": "  Łukasz Nowak "})
    assert response.status_code == 201
    new_code = response.json["code"]
    assert new_code != shown(certificate) and response.json["learner_name"] == "Łukasz Nowak"

    old = client.get(f"/api/v1/verify/{shown(certificate)}").json
    assert old["status"] == "replaced" and old["replaced_by"] == new_code
    page = client.get(f"/verify/{shown(certificate)}").get_data(as_text=True)
    assert "Replaced" in page and new_code in page
    new_pdf = client.get(f"/api/v1/certificates/{new_code}.pdf")
    assert new_pdf.status_code == 200

    listed = {item["code"]: item for item in client.get("/api/v1/certificates").json}
    assert listed[shown(certificate)]["replaced_by"] == new_code
    assert listed[new_code]["status"] == "valid"


def test_reissue_by_someone_else_is_not_found(client, certificate, org_admin, admin):
    path = f"/api/v1/certificates/{shown(certificate)}/reissue"
    for user in (UserFactory(), org_admin, admin):
        log_in(client, user)
        assert_error(client.post(path, json={"name": "Mallory"}), 404)


def test_reissue_needs_a_name(client, certificate):
    path = f"/api/v1/certificates/{shown(certificate)}/reissue"
    for body in ({}, {"name": ""}, {"name": "a\nb"}, {"name": "x" * 201}, {"name": "A", "x": 1}):
        assert_error(client.post(path, json=body), 422)
    assert_error(client.post(path, json={"name": "Łukasz Øster"}), 422)  # unchanged


# -- pages ------------------------------------------------------------------------------


def test_my_certificates_page_links_the_pdf_verification_and_linkedin(client, certificate):
    html = client.get("/certificates").get_data(as_text=True)
    assert f"/api/v1/certificates/{shown(certificate)}.pdf" in html
    assert f"/verify/{shown(certificate)}" in html
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in html
    assert "certId=" + shown(certificate) in html
    assert "organizationName=Example+University+OSPO" in html


def test_a_second_course_completion_by_another_learner_gets_its_own_certificate(
    client, db, org, course, certificate
):
    other = MemberFactory(organization=org, role="learner").user
    log_in(client, other)
    complete_course(client)
    (item,) = client.get("/api/v1/certificates").json
    assert item["code"] != shown(certificate)
