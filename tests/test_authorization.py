"""The authorization matrix (issue 14, item 2): every route, every method, every persona.

The routes come from ``app.url_map``: a route added later without a row in ``MATRIX`` fails
``test_every_route_has_a_row``. Path parameters name objects of organization A or sponsor S
(``tests/world.py``), so the admin of organization B and the admin of sponsor T must get 404:
"not yours" is a 404, never a 403 that confirms the object exists. Anonymous callers get 401 on
the API and a redirect to the login page on pages. A write that is refused changes nothing.

Each row reads, per persona in ``PERSONAS`` order (anonymous, learner of A, admin of A, admin
of B, admin of sponsor S, admin of sponsor T, platform admin), the status code answered.
A 422 (or 409) for a permitted persona proves the gate opened; the bodies are minimal.
"""

import hashlib
import io
import re

import pytest
import sqlalchemy as sa

from lms.core.extensions import db as _db
from tests.courses.builders import PNG
from tests.world import PERSONAS, seeded_world

ASSET = hashlib.sha256(PNG).hexdigest() + ".png"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
DENIALS = {401, 403, 404}  # and any answer to an anonymous write

# "METHOD endpoint": codes for anonymous, learner_a, admin_a, admin_b, sponsor_s, sponsor_t,
# platform. One line per route, in the url_map's order of rules.
MATRIX = {
    "GET static": "200 200 200 200 200 200 200",
    "GET api-docs.openapi_json": "200 200 200 200 200 200 200",
    "POST accounts_api.register": "422 422 422 422 422 422 422",
    "POST accounts_api.login": "422 422 422 422 422 422 422",
    "POST accounts_api.logout": "204 204 204 204 204 204 204",
    "GET accounts_api.csrf_token": "200 200 200 200 200 200 200",
    "POST accounts_api.request_password_reset": "422 422 422 422 422 422 422",
    "POST accounts_api.confirm_password_reset": "422 422 422 422 422 422 422",
    "POST accounts_api.verify_email": "422 422 422 422 422 422 422",
    "GET accounts_api.me": "401 200 200 200 200 200 200",
    "PATCH accounts_api.update_me": "401 200 200 200 200 200 200",
    "POST accounts_api.change_password": "401 422 422 422 422 422 422",
    "POST accounts_api.resend_verification_email": "401 409 409 409 409 409 409",
    "GET accounts_api.list_tokens": "401 200 200 200 200 200 200",
    "POST accounts_api.create_token": "401 201 201 201 201 201 201",
    "DELETE accounts_api.revoke_token": "401 204 404 404 404 404 404",
    "GET memberships_api.list_organizations": "401 200 200 200 200 200 200",
    "POST memberships_api.create_organization": "401 403 403 403 403 403 422",
    "GET memberships_api.get_organization": "401 200 200 404 404 404 200",
    "PATCH memberships_api.update_organization": "401 403 403 403 403 403 200",
    "PUT memberships_api.upload_organization_logo": "401 403 422 404 404 404 422",
    "DELETE memberships_api.delete_organization_logo": "401 403 204 404 404 404 204",
    "GET memberships_api.get_membership": "401 403 200 404 404 404 200",
    "POST memberships_api.create_seat_grant": "401 403 403 403 403 403 422",
    "PATCH memberships_api.change_seat_grant": "401 403 403 403 403 403 422",
    "GET memberships_api.seat_grant_ledger": "401 403 200 404 404 404 200",
    "GET memberships_api.list_members": "401 403 200 404 404 404 200",
    "PATCH memberships_api.update_member": "401 403 200 404 404 404 200",
    "DELETE memberships_api.remove_member": "401 403 204 404 404 404 204",
    "GET memberships_api.list_invitations": "401 403 200 404 404 404 200",
    "POST memberships_api.create_invitation": "401 403 201 404 404 404 201",
    "DELETE memberships_api.revoke_invitation": "401 403 204 404 404 404 204",
    "POST memberships_api.import_invitations": "401 403 200 404 404 404 200",
    "POST memberships_api.accept_invitation": "422 403 403 403 403 403 403",
    "GET courses_api.list_courses": "200 200 200 200 200 200 200",
    "GET courses_api.get_course": "200 200 200 200 200 200 200",
    "PATCH courses_api.update_course": "401 403 403 403 403 403 422",
    "GET courses_api.get_lesson": "200 200 200 200 200 200 200",
    "POST courses_api.import_course": "401 403 403 403 403 403 422",
    "POST progress_api.enroll": "401 200 403 403 403 403 403",
    "GET progress_api.my_enrollments": "401 200 200 200 200 200 200",
    "GET progress_api.get_enrollment": "401 200 404 404 404 404 404",
    "POST progress_api.upgrade": "401 409 404 404 404 404 404",
    "PUT progress_api.put_progress": "401 200 404 404 404 404 404",
    "POST progress_api.submit_attempt": "401 404 404 404 404 404 404",
    "GET progress_api.report": "401 403 200 404 404 404 200",
    "GET progress_api.report_summary": "401 403 200 404 404 404 200",
    "GET sponsorships_api.list_plans": "200 200 200 200 200 200 200",
    "POST sponsorships_api.create_sponsor": "401 201 201 201 201 201 201",
    "GET sponsorships_api.list_sponsors": "401 200 200 200 200 200 200",
    "GET sponsorships_api.get_sponsor": "401 404 404 404 200 404 200",
    "POST sponsorships_api.start_checkout": "401 404 404 404 422 404 403",
    "POST sponsorships_api.open_portal": "401 404 404 404 409 404 403",
    "GET sponsorships_api.list_sponsorships": "401 404 404 404 200 404 200",
    "POST sponsorships_api.create_invoice_sponsorship": "401 403 403 403 403 403 422",
    "POST sponsorships_api.record_manual_sponsorship": "401 403 403 403 403 403 422",
    "POST sponsorships_api.end_sponsorship": "401 403 403 403 403 403 422",
    "POST sponsorships_api.invite_admin": "401 404 404 404 201 404 403",
    "POST sponsorships_api.accept_admin_invitation": "401 403 403 403 403 403 403",
    "GET sponsorships_api.sponsor_impact": "401 404 404 404 200 404 200",
    "GET certificates_api.list_certificates": "401 200 200 200 200 200 200",
    "GET certificates_api.certificate_pdf": "401 200 200 404 404 404 200",
    "GET certificates_api.verify": "200 200 200 200 200 200 200",
    "POST certificates_api.revoke": "401 403 403 403 403 403 422",
    "POST certificates_api.reinstate": "401 403 403 403 403 403 409",
    "POST certificates_api.reissue": "401 201 404 404 404 404 404",
    "GET certificates_api.credential": "401 200 200 404 404 404 200",
    "GET certificates_api.issuer": "200 200 200 200 200 200 200",
    "GET certificates_api.revocation_list": "200 200 200 200 200 200 200",
    "GET web.home": "200 200 200 200 200 200 200",
    "GET web.favicon": "301 301 301 301 301 301 301",
    "GET web.start": "302 302 302 302 302 302 302",
    "GET web.admin": "302 403 403 403 403 403 200",
    "GET web.healthz": "200 200 200 200 200 200 200",
    "GET web.readyz": "200 200 200 200 200 200 200",
    "GET web.api_docs": "200 200 200 200 200 200 200",
    "GET accounts.register": "200 200 200 200 200 200 200",
    "POST accounts.register": "422 422 422 422 422 422 422",
    "GET accounts.login": "200 200 200 200 200 200 200",
    "POST accounts.login": "422 422 422 422 422 422 422",
    "POST accounts.logout": "302 302 302 302 302 302 302",
    "GET accounts.password_reset_request": "200 200 200 200 200 200 200",
    "POST accounts.password_reset_request": "422 422 422 422 422 422 422",
    "GET accounts.password_reset": "400 400 400 400 400 400 400",
    "POST accounts.password_reset": "400 400 400 400 400 400 400",
    "GET accounts.verify_email": "400 400 400 400 400 400 400",
    "POST accounts.verify_email": "400 400 400 400 400 400 400",
    "POST accounts.resend_verification_email": "302 302 302 302 302 302 302",
    "GET accounts.account": "302 200 200 200 200 200 200",
    "POST accounts.update_profile": "302 302 302 302 302 302 302",
    "POST accounts.change_password": "302 422 422 422 422 422 422",
    "POST accounts.create_token": "302 201 201 201 201 201 201",
    "POST accounts.revoke_token": "302 302 404 404 404 404 404",
    "GET courses.catalog": "200 200 200 200 200 200 200",
    "GET courses.course": "200 200 200 200 200 200 200",
    "GET courses.lesson": "200 200 200 200 200 200 200",
    "GET courses.asset": "200 200 200 200 200 200 200",
    "GET courses.admin_courses": "302 403 403 403 403 403 200",
    "POST courses.import_course": "302 403 403 403 403 403 422",
    "POST courses.publish_course": "302 403 403 403 403 403 302",
    "GET memberships.organization_list": "302 302 302 302 200 200 200",
    "POST memberships.create_organization": "302 403 403 403 403 403 422",
    "GET memberships.dashboard": "302 403 200 404 404 404 200",
    "POST memberships.invite": "302 403 302 404 404 404 302",
    "POST memberships.import_csv": "302 403 200 404 404 404 200",
    "POST memberships.revoke_invitation": "302 403 302 404 404 404 302",
    "POST memberships.upload_logo": "302 403 422 404 404 404 422",
    "POST memberships.remove_logo": "302 403 302 404 404 404 302",
    "GET memberships.logo": "302 404 404 404 404 404 404",
    "POST memberships.remove_member": "302 403 302 404 404 404 302",
    "POST memberships.change_role": "302 403 302 404 404 404 302",
    "POST memberships.change_seat": "302 403 302 404 404 404 302",
    "GET memberships.grants": "302 403 403 403 403 403 200",
    "POST memberships.grants": "302 403 403 403 403 403 422",
    "GET memberships.accept": "200 200 200 200 200 200 200",
    "POST memberships.accept": "422 403 403 403 403 403 403",
    "GET progress.dashboard": "302 200 200 200 200 200 200",
    "POST progress.enroll": "302 302 302 302 302 302 302",
    "GET progress.learn": "302 200 404 404 404 404 404",
    "POST progress.complete": "302 302 404 404 404 404 404",
    "POST progress.submit_quiz": "302 404 404 404 404 404 404",
    "GET progress.report": "302 403 200 404 404 404 200",
    "GET sponsorships.plans": "200 200 200 200 200 200 200",
    "GET sponsorships.sponsor_list": "302 200 200 200 200 200 200",
    "GET sponsorships.sponsor": "302 404 404 404 200 404 200",
    "POST sponsorships.checkout": "302 404 404 404 422 404 403",
    "POST sponsorships.portal": "302 404 404 404 302 404 403",
    "GET sponsorships.checkout_success": "302 404 404 404 200 404 200",
    "GET sponsorships.checkout_cancel": "302 404 404 404 200 404 200",
    "GET sponsorships.impact_page": "302 404 404 404 200 404 200",
    "GET sponsorships.impact_csv": "302 404 404 404 200 404 200",
    "GET sponsorships.accept_invitation": "302 200 200 200 200 200 200",
    "POST sponsorships.accept_invitation": "302 403 403 403 403 403 403",
    "POST stripe_webhook.stripe_webhook": "404 404 404 404 404 404 404",
    "GET certificates.verify_form": "200 200 200 200 200 200 200",
    "GET certificates.verify_page": "200 200 200 200 200 200 200",
    "POST certificates.revoke": "302 403 403 403 403 403 422",
    "POST certificates.reinstate": "302 403 403 403 403 403 409",
    "GET certificates.add_to_linkedin": "302 302 302 302 302 302 302",
    "GET certificates.my_certificates": "302 200 200 200 200 200 200",
}

# Anonymous visitors sent elsewhere than the login page, on purpose.
NOT_TO_LOGIN = {
    "POST accounts.logout",  # home: there is nothing to log out of
    "GET certificates.add_to_linkedin",  # LinkedIn: the certificate is public
}


def _png():
    return {"file": (io.BytesIO(PNG), "logo.png", "image/png")}


def _csv():
    return {"file": (io.BytesIO(b"email,name\nnew@uni.example,New\n"), "people.csv", "text/csv")}


# Bodies that pass validation, so that the gate (and not the schema) decides: a JSON body, or
# a function making form fields (file uploads cannot be reused).
BODIES = {
    "POST courses.publish_course": {"published": "1"},
    "PATCH accounts_api.update_me": {"name": "Renamed"},
    "POST accounts_api.change_password": {"current_password": "x", "new_password": "x" * 20},
    "POST accounts_api.create_token": {"name": "another"},
    "PUT memberships_api.upload_organization_logo": _png,
    "PATCH memberships_api.update_organization": {"name": "Renamed"},
    "PATCH memberships_api.update_member": {"role": "admin"},
    "POST memberships_api.create_invitation": {"email": "new@uni.example"},
    "POST memberships_api.import_invitations": _csv,
    "POST progress_api.enroll": {"course": "tiny-course"},
    "PUT progress_api.put_progress": {"status": "completed"},
    "POST progress_api.submit_attempt": {"answers": {"q1": ["a"]}},
    "POST sponsorships_api.create_sponsor": {"name": "New", "billing_email": "b@x.example"},
    "POST sponsorships_api.start_checkout": {
        "plan": "supporter",
        "organization": "org-a",
        "seats": 5,
    },
    "POST sponsorships_api.invite_admin": {"email": "new-admin@uni.example"},
    "POST certificates_api.reissue": {"name": "Renamed"},
    "POST memberships.invite": lambda: {"email": "new@uni.example", "role": "learner"},
    "POST memberships.import_csv": _csv,
    "POST memberships.upload_logo": _png,
    "POST accounts.update_profile": lambda: {"name": "Renamed"},
    "POST accounts.create_token": lambda: {"name": "another"},
    "POST sponsorships.checkout": lambda: {
        "plan": "supporter",
        "organization": "org-a",
        "seats": "5",
    },
}


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    with seeded_world(app, tmp_path_factory.mktemp("authz-course")) as world:
        yield world


def url_for_rule(rule, ids) -> str:
    values = {
        "slug": ids["course"]
        if rule.rule.startswith(("/courses", "/api/v1/courses", "/admin/courses"))
        else ids["organization"],
        "lesson_slug": ids["lesson_slug"],
        "user_id": ids["user_id"],
        "grant_id": ids["grant_id"],
        "enrollment_id": ids["enrollment_id"],
        "token_id": ids["token_id"],
        "sponsor_id": ids["sponsor_id"],
        "sponsorship_id": ids["sponsorship_id"],
        "name": ASSET,
        "filename": "favicon.svg",
    }
    if "/invitations/<code>" in rule.rule:
        values["code"] = ids["invitation_code"]
    elif "<code>" in rule.rule:
        values["code"] = ids["certificate_code"]
    if rule.rule.startswith(("/sponsor-invitations", "/api/v1/sponsor-invitations")):
        values["token"] = ids["sponsor_invitation_token"]
    elif "/invitations/<token>" in rule.rule:
        values["token"] = ids["invitation_token"]
    else:
        values["token"] = "no-such-token"
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(values[argument]), path)
    return path


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.endpoint}", method, rule


def snapshot(world) -> dict:
    """Every row of every table, as seen on the world's connection."""
    rows = {}
    for table in _db.metadata.sorted_tables:
        result = world.connection.execute(sa.select(table).order_by(*table.primary_key.columns))
        rows[table.name] = result.all()
    return rows


def call(world, persona, method, rule):
    client = world.client(persona)
    url = url_for_rule(rule, world.ids)
    key = f"{method} {rule.endpoint}"
    kwargs = {}
    if method in WRITES:
        body = BODIES.get(key, {})
        if callable(body):
            kwargs["data"] = body()
        elif rule.rule.startswith("/api/"):
            kwargs["json"] = body
        else:
            kwargs["data"] = body
    response = client.open(url, method=method, **kwargs)
    response.close()
    return response


def test_every_route_has_a_row(app):
    keys = [key for key, _, _ in routes(app)]
    missing = [key for key in keys if key not in MATRIX]
    assert not missing, "routes without a row in MATRIX: " + ", ".join(missing)
    assert not set(MATRIX) - set(keys), "rows for routes that no longer exist"


@pytest.fixture(scope="module")
def route_keys(app):
    return {key: (method, rule) for key, method, rule in routes(app)}


@pytest.mark.slow  # about 30 s a database: ~900 requests, and a snapshot around each write
@pytest.mark.parametrize("key", sorted(MATRIX))
def test_each_persona_gets_the_expected_answer(app, world, route_keys, key):
    method, rule = route_keys[key]
    wrong = []
    for persona, expected in zip(PERSONAS, MATRIX[key].split(), strict=True):
        with world.isolated(), app.app_context():
            before = snapshot(world) if method in WRITES else None
            response = call(world, persona, method, rule)
            code = response.status_code
            if code != int(expected):
                wrong.append(f"{persona}: {code}, expected {expected}")
            elif persona == "anonymous" and code == 302 and key not in NOT_TO_LOGIN:
                if not response.location.startswith("/login"):
                    wrong.append(f"anonymous: sent to {response.location}, not to /login")
            elif before is not None and (code in DENIALS or persona == "anonymous"):
                changed = [name for name, rows in snapshot(world).items() if rows != before[name]]
                if changed:
                    wrong.append(f"{persona}: refused with {code} but changed {changed}")
    assert not wrong, f"{key}: " + "; ".join(wrong)
