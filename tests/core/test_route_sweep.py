"""Every route, every method, hostile values: no answer is a 5xx (issue 8, items 9-12).

The routes come from ``app.url_map``, so a route added later is swept too. Each path variable
gets each hostile value in turn (the others stay valid, so the request reaches the code behind
the route); every route gets each hostile query value; every write gets hostile bodies. The
callers are an anonymous visitor, a platform admin with a personal token, and an organization
admin with a session (pages too).
"""

import re
from dataclasses import dataclass

import pytest

from lms.accounts import services as account_services
from lms.courses import services as course_services
from lms.progress import enrolling
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory

DIGITS_21 = "1" * 21
HOSTILE_SEGMENTS = [DIGITS_21, "3000000000", "0", "%00", "a%00b", "%25", "%ED%A0%80", "a%0D%0Ab"]
HOSTILE_QUERIES = [
    f"page={DIGITS_21}",
    "page=1e17&page_size=100",
    f"page={10**17}&page_size=100",
    f"page_size={DIGITS_21}",
    "version=99999999999",
    f"version={DIGITS_21}",
    "search=%00",
    "search=%25",
    "search=%ED%A0%80",
    "topic=%00",
    "q=%00",
    "course=%00",
    "status=%00",
    "active_since=9999-12-31T23:59:59-05:00",
    "active_since=0001-01-01T00:00:00%2B05:00",
    "next=%00",
    "dry_run=%00",
    "publish=%00",
]
HOSTILE_JSON = [
    "[" * 100_000 + "]" * 100_000,
    '{"name": ' + "7" * 5000 + "}",
    '{"name": "\\ud800"}',
    '{"name": "a\\u0000", "email": "\\u0000", "seats": 1e400}',
    '{"starts_at": "0001-01-01T00:00:00+05:00", "expires_at": "9999-12-31T23:59:59-05:00"}',
]
HOSTILE_FORM = {"name": "a\x00", "email": "\x00@x.org", "q": "\x00", "organization": "o\x00"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    enrollment_id: int
    spare_token_id: int
    spare_user_id: int
    grant_id: int

    def value(self, rule: str, argument: str) -> str:
        values = {
            "slug": "tiny-course" if "/courses/" in rule else "ospo",
            "lesson_slug": "hello",
            "enrollment_id": str(self.enrollment_id),
            "token_id": str(self.spare_token_id),
            "user_id": str(self.spare_user_id),
            "grant_id": str(self.grant_id),
            "filename": "favicon.svg",
        }
        return values.get(argument, "nope")


@pytest.fixture
def world(db, admin, tmp_path):
    course_services.import_course_folder(make_course(tmp_path), publish=True)
    organization = OrganizationFactory(slug="ospo")
    grant = SeatGrantFactory(organization=organization, seats=10)
    MemberFactory(organization=organization, user=admin, role="learner")
    enrollment, _ = enrolling.enroll(admin, "tiny-course", "ospo")
    spare_token, _ = account_services.create_api_token(admin, "spare", None)
    spare = MemberFactory(organization=organization, role="learner")
    db.session.flush()
    return World(enrollment.id, spare_token.id, spare.user_id, grant.id)


def build_url(rule, world, **override) -> str:
    """The rule's path with valid values, except the ones in ``override``."""
    path = rule.rule
    for argument in rule.arguments:
        value = override.get(argument, world.value(rule.rule, argument))
        path = re.sub(rf"<(?:[a-z]+:)?{argument}>", lambda _, v=value: v, path)
    return path


def requests_for(app, world):
    """(method, url, kwargs) for every route: hostile segments, queries and bodies."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: ("logout" in r.rule, r.rule))
    for rule in rules:
        api = rule.rule.startswith("/api/")
        valid = build_url(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            empty = {"json": {}} if api else {"data": {}}
            for argument in sorted(rule.arguments):
                for segment in HOSTILE_SEGMENTS:
                    yield method, build_url(rule, world, **{argument: segment}), empty
            for query in HOSTILE_QUERIES:
                yield method, f"{valid}?{query}", empty
            if method in WRITES:
                if api:
                    for text in HOSTILE_JSON:
                        yield method, valid, {"data": text, "content_type": "application/json"}
                else:
                    yield method, valid, {"data": HOSTILE_FORM}


def sweep(client, app, world, headers=None):
    failures = []
    for method, url, kwargs in requests_for(app, world):
        response = client.open(url, method=method, headers=headers or {}, **kwargs)
        response.close()  # static files stay open otherwise
        if response.status_code >= 500:
            failures.append((method, url[:120], response.status_code))
    return failures


@pytest.mark.slow
def test_no_route_answers_5xx_to_hostile_input(app, client, db, admin, world):
    failures = sweep(client, app, world)  # anonymous

    _, raw = account_services.create_api_token(admin, "sweep", None)
    db.session.flush()
    bearer = {"Authorization": f"Bearer {raw}"}
    failures += sweep(client, app, world, headers=bearer)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200  # still authenticated
    assert not failures, failures


@pytest.mark.slow
def test_no_page_or_api_route_answers_5xx_to_an_organization_admin(app, client, db, world):
    from lms.memberships.models import Organization

    organization = db.session.scalar(db.select(Organization).where(Organization.slug == "ospo"))
    org_admin = MemberFactory(organization=organization, role="admin").user
    log_in(client, org_admin)  # a session: pages and API writes with the CSRF header
    failures = sweep(client, app, world)
    assert not failures, failures


def test_every_integer_in_a_path_is_bounded(app):
    # A route added later with a plain <int:...> gets the bounded converter too.
    from lms.core.inputs import IdConverter, SegmentConverter

    assert app.url_map.converters["int"] is IdConverter
    assert app.url_map.converters["default"] is SegmentConverter
