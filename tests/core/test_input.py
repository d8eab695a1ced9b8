"""Bad input is a 4xx everywhere: malformed JSON, out-of-range integers and datetimes, NUL bytes
and control characters are refused where requests are parsed, on both databases (issue 8,
items 9-13 and 17). ``test_route_sweep.py`` throws the same values at every route."""

import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import ApiToken, User
from lms.core.inputs import MAX_ID, MAX_PAGE, InvalidJson, loads_json
from lms.core.text import clean_line, clean_text
from lms.memberships.models import Organization, SeatGrant
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = '{"email": ' + "7" * 5000 + "}"
LONE_SURROGATE = '{"email": "\\ud800", "password": "x"}'
NAN = '{"email": NaN}'
INFINITE = '{"email": 1e400}'
BAD_JSON = [DEEP, HUGE_INT, LONE_SURROGATE, NAN, INFINITE]
DIGITS_21 = "1" * 21


def assert_error(response, code):
    assert response.status_code == code, response.get_data(as_text=True)[:500]
    body = response.json
    assert body["code"] == code and body["status"] and body["message"]
    return body


def post_raw(client, path, text, method="post"):
    return client.open(path, method=method, data=text, content_type="application/json")


# -- item 9: JSON that parses badly in Python -----------------------------------------------


@pytest.mark.parametrize("text", BAD_JSON, ids=["deep", "huge-int", "surrogate", "nan", "inf"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/password-reset",
        "/api/v1/invitations/some-token/accept",
    ],
)
def test_bad_json_on_anonymous_endpoints_is_400_with_a_message(client, path, text):
    body = assert_error(post_raw(client, path, text), 400)
    assert re.search(r"nested|digits|surrogate|not a JSON number|too large", body["message"])


@pytest.mark.parametrize("text", BAD_JSON, ids=["deep", "huge-int", "surrogate", "nan", "inf"])
def test_bad_json_on_authenticated_endpoints_is_400(admin_client, db, text):
    OrganizationFactory(slug="ospo")
    for method, path in [
        ("post", "/api/v1/me/tokens"),
        ("patch", "/api/v1/me"),
        ("post", "/api/v1/organizations"),
        ("post", "/api/v1/organizations/ospo/seat-grants"),
        ("post", "/api/v1/enrollments"),
    ]:
        assert_error(post_raw(admin_client, path, text, method), 400)


def test_the_json_provider_refuses_the_same_documents(app):
    # request.get_json() and anything else that reads JSON through Flask use the same rules;
    # Flask turns the ValueError into a 400.
    for text in BAD_JSON:
        with pytest.raises(ValueError):
            app.json.loads(text)
    assert app.json.loads('{"a": [1, 2.5, "\\ud83d\\ude00"]}') == {"a": [1, 2.5, "\U0001f600"]}


def test_loads_json_limits_depth_and_encoding():
    assert loads_json(b'{"a": {"b": ["c"]}}') == {"a": {"b": ["c"]}}
    loads_json("[" * 32 + "]" * 32)
    with pytest.raises(InvalidJson, match="nested"):
        loads_json("[" * 33 + "]" * 33)
    with pytest.raises(InvalidJson, match="UTF-8"):
        loads_json(b'"\xed\xa0\x80"')  # a surrogate encoded directly, not as an escape
    with pytest.raises(InvalidJson, match="surrogate"):
        loads_json('{"\\udc00": 1}')


# -- item 10: NUL bytes and integers beyond the column (PostgreSQL answered 500) -------------


def test_nul_in_the_login_email_is_422(client):
    body = assert_error(client.post("/api/v1/auth/login", json={"email": "a\x00@x.org"}), 422)
    assert "email" in body["errors"]


@pytest.mark.parametrize(
    "path, payload, field",
    [
        (
            "/api/v1/auth/register",
            {"email": "n@x.org", "password": "x" * 12, "name": "A\x00"},
            "name",
        ),
        ("/api/v1/auth/password-reset", {"email": "a\x00@x.org"}, "email"),
        ("/api/v1/auth/password-reset/confirm", {"token": "t\x00", "password": "p"}, "token"),
    ],
)
def test_nul_in_anonymous_bodies_is_422(client, path, payload, field):
    body = assert_error(client.post(path, json=payload), 422)
    assert field in body["errors"]


def test_nul_in_names_notes_and_nested_values_is_422(admin_client, db):
    OrganizationFactory(slug="ospo")
    token = assert_error(admin_client.post("/api/v1/me/tokens", json={"name": "ci\x00"}), 422)
    assert "name" in token["errors"]
    grant = {"seats": 1, "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"}
    note = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants", json={**grant, "note": "PO\x00"}
    )
    assert "note" in assert_error(note, 422)["errors"]
    invite = admin_client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": "new@uni.example", "courses": ["a\x00"]},
    )
    assert "courses" in assert_error(invite, 422)["errors"]
    password = admin_client.post(
        "/api/v1/me/password", json={"current_password": "\x00", "new_password": "x"}
    )
    assert "current_password" in assert_error(password, 422)["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/organizations/ospo/members?search=%00",
        "/api/v1/courses?topic=%00",
        "/api/v1/organizations/ospo/report?search=a%00",
        "/api/v1/organizations/ospo/invitations?status=%00",
        "/api/v1/organizations/ospo/members?sea%00rch=x",
    ],
)
def test_nul_in_the_query_is_422(admin_client, db, path):
    OrganizationFactory(slug="ospo")
    assert "errors" in assert_error(admin_client.get(path), 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/organizations/os%00po",
        "/api/v1/courses/%00",
        "/api/v1/courses/tiny-course/lessons/hel%00lo",
        "/api/v1/organizations/ospo/invitations/a%0Db",
    ],
)
def test_control_characters_in_path_segments_are_404(admin_client, db, path):
    OrganizationFactory(slug="ospo")
    method = "delete" if "/invitations/" in path else "get"
    assert_error(admin_client.open(path, method=method), 404)


def test_nul_on_pages_is_a_4xx_page(admin_client, db):
    OrganizationFactory(slug="ospo")
    assert admin_client.get("/courses/a%00b").status_code == 404
    assert admin_client.get("/courses?topic=%00").status_code == 422
    page = admin_client.get("/organizations/ospo?q=%00")
    assert page.status_code == 422 and page.mimetype == "text/html"
    assert "control characters" in page.get_data(as_text=True)
    form = admin_client.post("/courses/tiny-course/enroll", data={"organization": "o\x00"})
    assert form.status_code == 422


def test_ids_beyond_the_column_are_404(admin_client, db):
    assert_error(admin_client.get("/api/v1/enrollments/3000000000"), 404)
    assert_error(admin_client.get(f"/api/v1/enrollments/{MAX_ID + 1}"), 404)
    assert_error(admin_client.get(f"/api/v1/enrollments/{MAX_ID}"), 404)  # in range: not found
    assert_error(admin_client.delete("/api/v1/me/tokens/3000000000"), 404)
    assert_error(admin_client.get("/api/v1/enrollments/" + "9" * 5000), 404)


@pytest.fixture
def course(db, tmp_path):
    from lms.courses import services as course_services

    return course_services.import_course_folder(make_course(tmp_path), publish=True)


def test_version_beyond_the_column_is_422_in_the_api_and_on_pages(client, course):
    for value in ("99999999999", DIGITS_21, "0"):
        api = client.get(f"/api/v1/courses/tiny-course?version={value}")
        assert "version" in assert_error(api, 422)["errors"]
        for path in (
            "/api/v1/courses/tiny-course/lessons/hello",
            "/courses/tiny-course",
            "/courses/tiny-course/lessons/hello",
        ):
            assert client.get(f"{path}?version={value}").status_code == 422, path
    assert client.get("/courses/tiny-course").status_code == 200


# -- item 11: integers beyond 2^63 in paths and paging ----------------------------------------


def test_21_digit_ids_in_paths_are_404(admin_client, db):
    OrganizationFactory(slug="ospo")
    for method, path in [
        ("get", f"/api/v1/enrollments/{DIGITS_21}"),
        ("post", f"/api/v1/enrollments/{DIGITS_21}/upgrade"),
        ("delete", f"/api/v1/me/tokens/{DIGITS_21}"),
        ("patch", f"/api/v1/organizations/ospo/members/{DIGITS_21}"),
        ("patch", f"/api/v1/organizations/ospo/seat-grants/{DIGITS_21}"),
    ]:
        assert_error(admin_client.open(path, method=method, json={}), 404)
    assert admin_client.get(f"/learn/{DIGITS_21}/hello").status_code == 404


PAGED = [
    "/api/v1/me/tokens",
    "/api/v1/organizations",
    "/api/v1/organizations/ospo/members",
    "/api/v1/organizations/ospo/invitations",
    "/api/v1/organizations/ospo/seat-grants/ledger",
    "/api/v1/organizations/ospo/report",
    "/api/v1/courses",
]


@pytest.mark.parametrize("path", PAGED)
def test_pages_beyond_the_maximum_are_422_on_every_list(admin_client, db, path):
    OrganizationFactory(slug="ospo")
    for query in (
        f"page={DIGITS_21}",
        f"page={10**17}&page_size=100",
        "page=1e17&page_size=100",
        f"page={MAX_PAGE + 1}",
        f"page_size={DIGITS_21}",
    ):
        body = assert_error(admin_client.get(f"{path}?{query}"), 422)
        assert set(body["errors"]) & {"page", "page_size"}
    last = admin_client.get(f"{path}?page={MAX_PAGE}&page_size=100")
    assert last.status_code == 200 and last.json == []


def test_pages_beyond_the_maximum_are_422_on_html_pages(admin_client, db):
    organization = OrganizationFactory(slug="ospo")
    MemberFactory(organization=organization, role="admin")
    for path in ("/organizations/ospo", "/organizations/ospo/report"):
        for value in (DIGITS_21, str(MAX_PAGE + 1), "1e17", "-1"):
            assert admin_client.get(f"{path}?page={value}").status_code == 422
        assert admin_client.get(f"{path}?page=2").status_code == 200


def test_the_openapi_document_states_the_maxima(client):
    spec = client.get("/api/openapi.json").json
    tokens = spec["paths"]["/api/v1/me/tokens"]["get"]["parameters"]
    page = next(p for p in tokens if p["name"] == "page")["schema"]
    size = next(p for p in tokens if p["name"] == "page_size")["schema"]
    assert page == {"type": "integer", "default": 1, "minimum": 1, "maximum": MAX_PAGE}
    assert size["maximum"] == 100
    path_id = spec["paths"]["/api/v1/enrollments/{enrollment_id}"]["parameters"][0]["schema"]
    assert path_id == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    version = spec["paths"]["/api/v1/courses/{slug}"]["get"]["parameters"][0]["schema"]
    assert version["maximum"] == MAX_ID
    schemas = spec["components"]["schemas"]
    assert "UTC" in schemas["ApiTokenIn"]["properties"]["expires_at"]["description"]
    assert schemas["OrganizationIn"]["properties"]["name"]["maxLength"] == 200


# -- item 12: datetimes outside years 1-9999 in UTC; one rule for naive datetimes -------------


def test_datetimes_that_leave_the_years_1_to_9999_are_422(admin_client, db):
    OrganizationFactory(slug="ospo")
    late = "9999-12-31T23:59:59-05:00"
    early = "0001-01-01T00:00:00+05:00"
    body = assert_error(
        admin_client.post("/api/v1/me/tokens", json={"name": "ci", "expires_at": late}), 422
    )
    assert body["errors"]["expires_at"] == ["Must be between the years 1 and 9999 in UTC."]
    grant = {"seats": 1, "starts_at": early, "ends_at": "2031-01-01T00:00:00Z"}
    body = assert_error(
        admin_client.post("/api/v1/organizations/ospo/seat-grants", json=grant), 422
    )
    assert "starts_at" in body["errors"]
    grant = {"seats": 1, "starts_at": "2030-01-01T00:00:00Z", "ends_at": late}
    assert (
        "ends_at"
        in assert_error(
            admin_client.post("/api/v1/organizations/ospo/seat-grants", json=grant), 422
        )["errors"]
    )
    query = "9999-12-31T23:59:59-05:00".replace("+", "%2B")
    body = assert_error(
        admin_client.get(f"/api/v1/organizations/ospo/report?active_since={query}"), 422
    )
    assert "active_since" in body["errors"]
    early_query = early.replace("+", "%2B")
    assert (
        admin_client.get(
            f"/api/v1/organizations/ospo/report?active_since={early_query}"
        ).status_code
        == 422
    )


def test_naive_datetimes_are_read_as_utc_everywhere(admin_client, admin, db):
    organization = OrganizationFactory(slug="ospo")
    grant = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants",
        json={"seats": 2, "starts_at": "2030-01-01T00:00:00", "ends_at": "2031-01-01T12:30:00"},
    )
    assert grant.status_code == 201, grant.json
    assert grant.json["starts_at"].startswith("2030-01-01T00:00:00")
    assert grant.json["ends_at"].startswith("2031-01-01T12:30:00")
    token = admin_client.post(
        "/api/v1/me/tokens", json={"name": "ci", "expires_at": "2040-06-01T08:00:00"}
    )
    assert token.status_code == 201, token.json
    assert token.json["expires_at"].startswith("2040-06-01T08:00:00")
    # An offset is converted: 05:00 at +05:00 is midnight UTC.
    shifted = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants",
        json={
            "seats": 1,
            "starts_at": "2030-01-01T05:00:00+05:00",
            "ends_at": "2031-01-01T00:00:00Z",
        },
    )
    assert shifted.status_code == 201
    stored = db.session.scalars(
        sa.select(SeatGrant.starts_at).where(
            SeatGrant.organization_id == organization.id, SeatGrant.seats == 1
        )
    ).one()
    assert (stored.year, stored.month, stored.day, stored.hour) == (2030, 1, 1, 0)
    for response in (grant, token, shifted):
        for key in ("starts_at", "expires_at"):
            if key in response.json:
                assert response.json[key].endswith("+00:00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


# -- item 13 (schema half) and 17: one-line names, multi-line notes, never blank ---------------

INJECTION = ["Evil\r\nBcc: victim@x.org", "Line\nbreak", "Nul\x00byte", "Bell\x07", "Sep\u2028x"]


@pytest.mark.parametrize("name", INJECTION + ["   ", ""])
def test_names_with_line_breaks_control_characters_or_nothing_are_422(admin_client, db, name):
    organization = OrganizationFactory(slug="ospo")
    requests = [
        ("post", "/api/v1/organizations", {"slug": "new-org", "name": name}),
        ("patch", "/api/v1/organizations/ospo", {"name": name}),
        ("patch", "/api/v1/me", {"name": name}),
        ("post", "/api/v1/me/tokens", {"name": name}),
    ]
    if name.strip():  # an invitation's name is optional: blank means none
        requests.append(
            (
                "post",
                "/api/v1/organizations/ospo/invitations",
                {"email": "n@uni.example", "name": name},
            )
        )
    for method, path, payload in requests:
        body = assert_error(admin_client.open(path, method=method, json=payload), 422)
        assert "name" in body["errors"], (path, body)
    assert db.session.scalar(sa.select(Organization.name).where(Organization.slug == "ospo")) == (
        organization.name
    )


@pytest.mark.parametrize("name", INJECTION + ["   "])
def test_anonymous_names_are_checked_too(client, name):
    register = {"email": "new@uni.example", "password": "a long enough password", "name": name}
    assert (
        "name" in assert_error(client.post("/api/v1/auth/register", json=register), 422)["errors"]
    )
    accept = {"name": name, "password": "a long enough password"}
    assert (
        "name"
        in assert_error(client.post("/api/v1/invitations/whatever/accept", json=accept), 422)[
            "errors"
        ]
    )


def test_names_are_stored_without_surrounding_whitespace(admin_client, db):
    created = admin_client.post(
        "/api/v1/organizations", json={"slug": "trim", "name": "  Trim U  "}
    )
    assert created.status_code == 201 and created.json["name"] == "Trim U"
    assert admin_client.patch("/api/v1/me", json={"name": "  Ada  "}).json["name"] == "Ada"


def test_slugs_must_match_entirely(admin_client, db):
    # Python's $ also matches before a final newline: "ospo-x\n" passed the old pattern.
    body = assert_error(
        admin_client.post("/api/v1/organizations", json={"slug": "ospo-x\n", "name": "X"}), 422
    )
    assert "slug" in body["errors"]
    assert (
        "country"
        in assert_error(
            admin_client.post(
                "/api/v1/organizations", json={"slug": "x-y", "name": "X", "country": "DE\n"}
            ),
            422,
        )["errors"]
    )


def test_notes_keep_line_breaks_but_refuse_control_characters(admin_client, db):
    OrganizationFactory(slug="ospo")
    grant = {"seats": 1, "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"}
    created = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants", json={**grant, "note": "PO 17\r\nsecond line\t"}
    )
    assert created.status_code == 201 and created.json["note"] == "PO 17\r\nsecond line"
    for bad in ("PO\x00", "PO\x1b[31m", "PO\x7f"):
        body = assert_error(
            admin_client.post(
                "/api/v1/organizations/ospo/seat-grants", json={**grant, "note": bad}
            ),
            422,
        )
        assert "note" in body["errors"]
    change = admin_client.patch(
        f"/api/v1/organizations/ospo/seat-grants/{created.json['id']}",
        json={"seats": 2, "reason": "  "},
    )
    assert "reason" in assert_error(change, 422)["errors"]


def csrf_from(response) -> str:
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.mark.parametrize("name", ["Evil\r\nBcc: x@x.org", "   "])
def test_html_forms_apply_the_same_rules(client, user, db, name):
    log_in(client, user)
    token = csrf_from(client.get("/account"))
    profile = client.post("/account/profile", data={"name": name, "csrf_token": token})
    assert profile.status_code == 422
    tokens = client.post("/account/tokens", data={"name": name, "csrf_token": token})
    assert tokens.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert db.session.get(User, user.id).name == user.name


def test_html_forms_strip_names(client, user, db):
    log_in(client, user)
    token = csrf_from(client.get("/account"))
    response = client.post("/account/profile", data={"name": "  Grace  ", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Grace"


def test_html_organization_form_refuses_a_header_injection(admin_client, db):
    token = csrf_from(admin_client.get("/organizations"))
    response = admin_client.post(
        "/organizations",
        data={"slug": "evil", "name": "Evil\r\nBcc: x@x.org", "kind": "other", "csrf_token": token},
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(Organization).where(Organization.slug == "evil")) is None


def test_course_titles_are_one_line(tmp_path):
    from lms.courses.loader import CourseFormatError, load_course

    folder = make_course(tmp_path)
    yaml_file = folder / "course.yaml"
    yaml_file.write_text(
        yaml_file.read_text().replace("title: A Tiny Course", 'title: "Tiny\\r\\nBcc: x@x.org"')
    )
    with pytest.raises(CourseFormatError, match="title"):
        load_course(folder)


def test_text_rules():
    assert clean_line("  Ada Lovelace ") == "Ada Lovelace"
    assert clean_line("  ", required=False) == ""
    for bad in ("a\nb", "a\rb", "a\x00", "\x85", "a\u2029"):
        with pytest.raises(ValueError, match="single line"):
            clean_line(bad)
    with pytest.raises(ValueError, match="blank"):
        clean_line("   ")
    assert clean_text(" one\r\ntwo\tthree ") == "one\r\ntwo\tthree"
    with pytest.raises(ValueError, match="control"):
        clean_text("a\x00")
