"""The OpenAPI document is complete and says what the server does (issue 9, item 6): it is valid
OpenAPI 3.1, every operation has an id, its security and its error responses, every property has
a type, the limits the server applies are in it, and the server refuses what it refuses."""

import json
import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from lms.core.api import Blueprint
from lms.core.auth import login_required, public
from tests.accounts.test_api import assert_error_shape
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory

METHODS = ("get", "put", "post", "delete", "patch")
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
SIGNED_IN = [{"bearerAuth": []}, {"cookieAuth": []}]
SIGNED_IN_WRITE = [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}]

# The operation ids are names clients generate code from: renaming one breaks them.
OPERATION_IDS = {
    "POST /api/v1/auth/register": "register",
    "POST /api/v1/auth/login": "login",
    "POST /api/v1/auth/logout": "logout",
    "GET /api/v1/auth/csrf": "getCsrfToken",
    "POST /api/v1/auth/password-reset": "requestPasswordReset",
    "POST /api/v1/auth/password-reset/confirm": "confirmPasswordReset",
    "POST /api/v1/auth/verify-email": "verifyEmail",
    "GET /api/v1/me": "getMe",
    "PATCH /api/v1/me": "updateMe",
    "POST /api/v1/me/password": "changePassword",
    "POST /api/v1/me/verification-email": "resendVerificationEmail",
    "GET /api/v1/me/tokens": "listTokens",
    "POST /api/v1/me/tokens": "createToken",
    "DELETE /api/v1/me/tokens/{token_id}": "revokeToken",
    "GET /api/v1/organizations": "listOrganizations",
    "POST /api/v1/organizations": "createOrganization",
    "GET /api/v1/organizations/{slug}": "getOrganization",
    "PATCH /api/v1/organizations/{slug}": "updateOrganization",
    "PUT /api/v1/organizations/{slug}/logo": "uploadOrganizationLogo",
    "DELETE /api/v1/organizations/{slug}/logo": "deleteOrganizationLogo",
    "GET /api/v1/organizations/{slug}/membership": "getMembership",
    "POST /api/v1/organizations/{slug}/seat-grants": "createSeatGrant",
    "PATCH /api/v1/organizations/{slug}/seat-grants/{grant_id}": "changeSeatGrant",
    "GET /api/v1/organizations/{slug}/seat-grants/ledger": "getSeatGrantLedger",
    "GET /api/v1/organizations/{slug}/members": "listMembers",
    "PATCH /api/v1/organizations/{slug}/members/{user_id}": "updateMember",
    "DELETE /api/v1/organizations/{slug}/members/{user_id}": "removeMember",
    "GET /api/v1/organizations/{slug}/invitations": "listInvitations",
    "POST /api/v1/organizations/{slug}/invitations": "createInvitation",
    "DELETE /api/v1/organizations/{slug}/invitations/{code}": "revokeInvitation",
    "POST /api/v1/organizations/{slug}/invitations/import": "importInvitations",
    "POST /api/v1/invitations/{token}/accept": "acceptInvitation",
    "GET /api/v1/courses": "listCourses",
    "GET /api/v1/courses/{slug}": "getCourse",
    "PATCH /api/v1/courses/{slug}": "updateCourse",
    "GET /api/v1/courses/{slug}/lessons/{lesson_slug}": "getLesson",
    "POST /api/v1/courses/import": "importCourse",
    "POST /api/v1/enrollments": "enroll",
    "GET /api/v1/enrollments": "listMyEnrollments",
    "GET /api/v1/enrollments/{enrollment_id}": "getEnrollment",
    "POST /api/v1/enrollments/{enrollment_id}/upgrade": "upgradeEnrollment",
    "PUT /api/v1/enrollments/{enrollment_id}/lessons/{lesson_slug}/progress": (
        "recordLessonProgress"
    ),
    "POST /api/v1/enrollments/{enrollment_id}/lessons/{lesson_slug}/attempts": "submitAttempt",
    "GET /api/v1/organizations/{slug}/report": "getReport",
    "GET /api/v1/organizations/{slug}/report/summary": "getReportSummary",
    "GET /api/v1/sponsorship-plans": "listPlans",
    "POST /api/v1/sponsors": "createSponsor",
    "GET /api/v1/sponsors": "listSponsors",
    "GET /api/v1/sponsors/{sponsor_id}": "getSponsor",
    "POST /api/v1/sponsors/{sponsor_id}/checkout": "startCheckout",
    "POST /api/v1/sponsors/{sponsor_id}/portal": "openPortal",
    "GET /api/v1/sponsors/{sponsor_id}/sponsorships": "listSponsorships",
    "POST /api/v1/sponsors/{sponsor_id}/invoice-sponsorships": "createInvoiceSponsorship",
    "POST /api/v1/sponsors/{sponsor_id}/manual-sponsorships": "recordManualSponsorship",
    "POST /api/v1/sponsors/{sponsor_id}/sponsorships/{sponsorship_id}/end": "endSponsorship",
    "POST /api/v1/sponsors/{sponsor_id}/admin-invitations": "inviteSponsorAdmin",
    "POST /api/v1/sponsor-invitations/{token}/accept": "acceptAdminInvitation",
    "GET /api/v1/sponsors/{sponsor_id}/impact": "getSponsorImpact",
    "GET /api/v1/certificates": "listCertificates",
    "GET /api/v1/certificates/{code}.pdf": "getCertificatePdf",
    "GET /api/v1/verify/{code}": "verifyCertificate",
    "POST /api/v1/certificates/{code}/revoke": "revokeCertificate",
    "POST /api/v1/certificates/{code}/reinstate": "reinstateCertificate",
    "POST /api/v1/certificates/{code}/reissue": "reissueCertificate",
    "GET /api/v1/certificates/{code}/credential": "getCredential",
    "GET /api/v1/issuer": "getIssuerProfile",
    "GET /api/v1/status-lists/revocation": "getRevocationList",
}

PUBLIC = {"register", "login", "getCsrfToken", "requestPasswordReset", "confirmPasswordReset"}
PUBLIC |= {"verifyEmail", "listPlans", "verifyCertificate", "getIssuerProfile"}
PUBLIC |= {"getRevocationList"}
# Anonymous callers are served; a session or token changes the answer.
OPTIONAL = {"logout", "acceptInvitation", "listCourses", "getCourse", "getLesson"}

# Errors a route answers beyond those its decorators imply.
EXTRA_ERRORS = {
    "register": {409, 429},
    "login": {401, 429},
    "requestPasswordReset": {429},
    "resendVerificationEmail": {409, 429},
    "createToken": {403},
    "createOrganization": {409},
    "getMembership": {403},
    "uploadOrganizationLogo": {403, 413},
    "deleteOrganizationLogo": {403},
    "listMembers": {403},
    "updateMember": {403, 409},
    "removeMember": {403, 409},
    "createInvitation": {403, 409},
    "revokeInvitation": {403, 409},
    "importInvitations": {403, 413},
    "acceptInvitation": {403, 409, 410},
    "listCourses": {403},
    "importCourse": {403, 413},
    "enroll": {403, 404},
    "upgradeEnrollment": {403, 409},
    "recordLessonProgress": {403},
    "submitAttempt": {403, 409},
    "getReport": {403},
    "startCheckout": {403, 409, 502},
    "openPortal": {403, 409, 502},
    "createInvoiceSponsorship": {409, 502},
    "recordManualSponsorship": {409},
    "endSponsorship": {409},
    "inviteSponsorAdmin": {403, 409},
    "acceptAdminInvitation": {403, 409, 410},
    "listCertificates": {403, 404},
    "verifyCertificate": {429},
    "revokeCertificate": {409},
    "reinstateCertificate": {409},
    "reissueCertificate": {409},
}


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").json


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item, item[method]


def parameters(item, op):
    return item.get("parameters", []) + op.get("parameters", [])


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on the first problem


def test_every_operation_has_its_own_stable_operation_id(spec):
    ids = {name: op.get("operationId") for name, _, op in operations(spec)}
    assert ids == OPERATION_IDS
    assert len(set(ids.values())) == len(ids)


def test_every_operation_declares_who_may_call_it(spec):
    for name, _, op in operations(spec):
        operation_id = op["operationId"]
        signed_in = SIGNED_IN if name.startswith("GET ") else SIGNED_IN_WRITE
        if operation_id in PUBLIC:
            expected = []
        elif operation_id in OPTIONAL:
            expected = [{}, *signed_in]
        else:
            expected = signed_in
        assert op.get("security") == expected, name
    schemes = spec["components"]["securitySchemes"]
    assert schemes["csrfToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": schemes["csrfToken"]["description"],
    }
    assert schemes["cookieAuth"]["name"] == "lms_session"


def test_every_operation_lists_the_errors_it_answers_with_the_error_shape(spec):
    responses = spec["components"]["responses"]
    for name, item, op in operations(spec):
        method = name.split()[0]
        codes = {int(code) for code in op["responses"] if code != "default"}
        implied = set(EXTRA_ERRORS.get(op["operationId"], ()))
        if op["security"] and {} not in op["security"]:
            implied.add(401)
        if any(p["in"] == "path" for p in parameters(item, op)):
            implied.add(404)
        body = op.get("requestBody", {}).get("content", {})
        if any(p["in"] == "query" for p in parameters(item, op)) or body:
            implied.add(422)
        if "application/json" in body:
            implied |= {400, 413, 415}
        if method != "GET":
            implied.add(400)  # CSRF
        assert implied <= codes, (name, sorted(implied - codes))
        for code in codes:
            if code >= 400:
                response = op["responses"][str(code)]
                response = responses[response["$ref"].rsplit("/", 1)[-1]]
                assert response["content"]["application/json"]["schema"] == ERROR_SCHEMA


def test_every_property_has_a_type(spec):
    untyped = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if "type" not in prop and "$ref" not in prop
    ]
    assert untyped == []
    schemas = spec["components"]["schemas"]
    assert schemas["InvitationOut"]["properties"]["status"]["type"] == "string"
    assert schemas["EnrollmentOut"]["properties"]["next_lesson"]["type"] == ["object", "null"]
    answers = schemas["AttemptIn"]["properties"]["answers"]
    assert answers["type"] == "object"
    assert answers["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_every_integer_a_client_sends_has_a_maximum(spec):
    schemas = spec["components"]["schemas"]
    inputs = [name for name in schemas if name.endswith(("In", "Query"))]
    assert "SeatGrantIn" in inputs and "ProgressIn" in inputs
    unbounded = [
        f"{name}.{field}"
        for name in inputs
        for field, prop in schemas[name].get("properties", {}).items()
        if "integer" in prop.get("type", ()) and "maximum" not in prop
    ]
    for name, item, op in operations(spec):
        for parameter in parameters(item, op):
            schema = parameter.get("schema", {})
            if schema.get("type") == "integer" and "maximum" not in schema:
                unbounded.append(f"{name} {parameter['name']}")
    assert unbounded == []


def test_the_limits_the_server_applies_are_in_the_schemas(app, spec):
    schemas = spec["components"]["schemas"]
    minimum = app.config["PASSWORD_MIN_LENGTH"]
    for name, field in [
        ("RegisterIn", "password"),
        ("PasswordChangeIn", "new_password"),
        ("PasswordResetIn", "password"),
        ("AcceptIn", "password"),
    ]:
        assert schemas[name]["properties"][field]["minLength"] == minimum, name
        assert schemas[name]["properties"][field]["maxLength"] == 128, name
    assert "in the future" in schemas["ApiTokenIn"]["properties"]["expires_at"]["description"]
    assert "after starts_at" in schemas["SeatGrantIn"]["properties"]["ends_at"]["description"]


def test_a_short_password_is_refused_as_the_schema_says(client, spec):
    minimum = spec["components"]["schemas"]["RegisterIn"]["properties"]["password"]["minLength"]
    body = {"email": "short@uni.example", "name": "Short", "password": "q" * (minimum - 1)}
    assert_error_shape(client.post("/api/v1/auth/register", json=body), 422)


@pytest.mark.parametrize(
    # The impact's CSV was undocumented (found by fuzzing: an undocumented Content-Type).
    "path",
    ["/api/v1/organizations/{slug}/report", "/api/v1/sponsors/{sponsor_id}/impact"],
)
def test_the_reports_document_their_csv_form(spec, path):
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    assert content["text/csv"]["schema"]["type"] == "string"


def test_the_pagination_header_is_documented_as_the_json_text_it_is(admin_client, spec):
    response = admin_client.get("/api/v1/organizations?page_size=1")
    assert response.status_code == 200
    header = response.headers["X-Pagination"]
    documented = spec["paths"]["/api/v1/organizations"]["get"]["responses"]["200"]["headers"]
    schema = documented["X-Pagination"]["schema"]
    jsonschema.validate(header, schema)  # a string; it was documented as an object
    assert schema["contentMediaType"] == "application/json"
    content = spec["components"]["schemas"][schema["contentSchema"]["$ref"].rsplit("/", 1)[-1]]
    jsonschema.validate(json.loads(header), content)
    for name, _, op in operations(spec):
        headers = op["responses"].get("200", {}).get("headers", {})
        if "X-Pagination" in headers:
            assert headers["X-Pagination"]["schema"]["type"] == "string", name


def test_the_docs_page_still_lists_every_operation(client, spec):
    html = client.get("/api/docs").get_data(as_text=True)
    for name in OPERATION_IDS:
        path = name.split()[1]
        assert path in html


# -- the server enforces what the document says ---------------------------------------


def test_a_boolean_in_a_json_body_must_be_true_or_false(admin_client, tmp_path):
    from lms.courses import services

    services.import_course_folder(make_course(tmp_path, slug="draft-course"))
    for loose in (0, 1, "true", "yes", "on"):
        body = assert_error_shape(
            admin_client.patch("/api/v1/courses/draft-course", json={"published": loose}), 422
        )
        assert body["errors"]["published"] == ["Not a valid boolean."]
    response = admin_client.patch("/api/v1/courses/draft-course", json={"published": True})
    assert response.status_code == 200 and response.json["published"] is True


def test_a_number_in_a_json_body_must_be_a_number(admin_client, db):
    organization = OrganizationFactory(slug="ospo")
    admin = MemberFactory(organization=organization, role="admin").user
    SeatGrantFactory(organization=organization)
    grant = {"seats": "5", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2031-01-01T00:00:00Z"}
    body = assert_error_shape(
        admin_client.post("/api/v1/organizations/ospo/seat-grants", json=grant), 422
    )
    assert body["errors"]["seats"] == ["Not a valid integer."]
    created = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants", json={**grant, "seats": 5}
    )
    assert created.status_code == 201 and created.json["seats"] == 5
    member = f"/api/v1/organizations/ospo/members/{admin.id}"
    body = assert_error_shape(admin_client.patch(member, json={"learner_seat": "yes"}), 422)
    assert body["errors"]["learner_seat"] == ["Not a valid boolean."]


def test_a_required_json_body_must_be_sent(admin_client, db):
    OrganizationFactory(slug="ospo", name="OSPO")
    body = assert_error_shape(admin_client.patch("/api/v1/organizations/ospo"), 422)
    assert body["errors"] == {"_schema": ["Send a JSON body."]}
    assert admin_client.get("/api/v1/organizations/ospo").json["name"] == "OSPO"
    assert_error_shape(admin_client.post("/api/v1/me/tokens"), 422)
    # {} is a body: a patch that changes nothing.
    assert admin_client.patch("/api/v1/organizations/ospo", json={}).status_code == 200


def test_an_optional_json_body_may_be_left_out(app, client, db, mailbox, spec):
    accept = spec["paths"]["/api/v1/invitations/{token}/accept"]["post"]["requestBody"]
    assert accept["required"] is False
    patch = spec["paths"]["/api/v1/organizations/{slug}"]["patch"]["requestBody"]
    assert patch["required"] is True
    organization = OrganizationFactory(slug="ospo")
    SeatGrantFactory(organization=organization)
    admin = MemberFactory(organization=organization, role="admin").user
    person = UserFactory(email="known@uni.example")
    invite = {"email": person.email}
    log_in(client, admin).post("/api/v1/organizations/ospo/invitations", json=invite)
    mail = mailbox.last_to(person.email).get_content()
    token = re.search(r"/invitations/(\S+)", mail).group(1)
    accepted = log_in(app.test_client(), person).post(f"/api/v1/invitations/{token}/accept")
    assert accepted.status_code == 200 and accepted.json["organization"] == "ospo"


def test_an_api_route_must_say_who_may_call_it():
    blp = Blueprint("probe", __name__)
    with pytest.raises(TypeError, match="say who may call it"):

        @blp.route("/probe")
        def probe():
            return {}

    @blp.route("/fine")
    @public
    def fine():
        return {}

    with pytest.raises(TypeError, match="one method per API route"):

        @blp.route("/both", methods=["GET", "POST"])
        @login_required
        def both():
            return {}


def test_every_link_names_an_operation_and_fills_its_path_parameters(spec):
    # Links (issue 14: stateful fuzzing follows them) say where an answer leads.
    by_id = {op["operationId"]: (item, op) for _, item, op in operations(spec)}
    links = [
        link
        for _, _, op in operations(spec)
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 8
    for link in links:
        item, target = by_id[link["operationId"]]
        path_names = {p["name"] for p in parameters(item, target) if p["in"] == "path"}
        assert set(link["parameters"]) == path_names, link
    created = spec["paths"]["/api/v1/organizations"]["post"]["responses"]["201"]["links"]
    assert created["createInvitation"]["parameters"] == {"slug": "$response.body#/slug"}
