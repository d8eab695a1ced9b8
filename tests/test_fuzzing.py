"""Fuzzing from the OpenAPI document (issue 14, item 1), with schemathesis.

Every operation of the app's own ``/api/openapi.json`` is called in-process (WSGI, no network)
as each persona of ``tests/world.py`` with its personal API token, with generated path, query
and body values, valid and invalid. Two thirds of the valid cases name real objects of
organization A and sponsor S in their path, so requests also reach the code behind the lookups.
Each answer must not be a 5xx, and its status code, content type, headers and body must be what the
document says. Each call runs in a savepoint that is rolled back, so the examples do not see
each other's writes (a revoked token, a removed member), and runs are derandomized: CI sees the
same cases every time. The failures this found are kept as plain tests in the packages' tests.

A stateful test follows the document's OpenAPI links as a platform admin: create an
organization, then grant seats and invite into it; create a sponsor, then read it; and so on.
"""

import copy
import os
import tempfile
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms import create_app
from tests.conftest import make_test_config
from tests.world import PERSONAS, seeded_world

# Examples per operation, each sent as every persona; LMS_FUZZ_EXAMPLES=50 for a long run.
MAX_EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "4"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # invalid input (generated in the negative mode) is a 4xx
    # Not ignored_auth: its probes kept the persona's token in this in-process setup and
    # reported every signed-in 200 as "accepts requests without authentication". Who may
    # call what is tests/test_authorization.py's job, route by route and persona by persona.
]
CONFIG = {
    # Examples and fuzzing; the coverage phase multiplies the cases by tens per operation.
    # LMS_FUZZ_COVERAGE=1 adds it for a long local run.
    "phases": {
        "coverage": {"enabled": os.environ.get("LMS_FUZZ_COVERAGE") == "1"},
        "stateful": {"enabled": False},
    },
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
}


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    with seeded_world(app, tmp_path_factory.mktemp("fuzz-course")) as world:
        REAL_IDS.update(world.ids)
        yield world
        REAL_IDS.clear()


def real_path_parameters(path: str, ids: dict) -> dict:
    """The path parameters of ``path`` naming objects of organization A or sponsor S."""
    slug = ids["course"] if path.startswith("/api/v1/courses") else ids["organization"]
    code = ids["invitation_code"] if "/invitations/{code}" in path else ids["certificate_code"]
    token = (
        ids["sponsor_invitation_token"]
        if path.startswith("/api/v1/sponsor-invitations")
        else ids["invitation_token"]
    )
    return {
        "slug": slug,
        "lesson_slug": ids["lesson_slug"],
        "user_id": ids["user_id"],
        "grant_id": ids["grant_id"],
        "enrollment_id": ids["enrollment_id"],
        "token_id": ids["token_id"],
        "sponsor_id": ids["sponsor_id"],
        "sponsorship_id": ids["sponsorship_id"],
        "code": code,
        "token": token,
    }


def _document() -> dict:
    """The app's own /api/openapi.json (the document does not depend on the database)."""
    with tempfile.TemporaryDirectory() as instance:
        config = make_test_config("sqlite://", Path(instance))
        return create_app(config).test_client().get("/api/openapi.json").json


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT), config=SchemathesisConfig.from_dict(CONFIG)
)
REAL_IDS: dict = {}  # the seeded world's ids, filled by the ``world`` fixture


@schema.hook
def flatmap_case(context, case):
    """Two thirds of the valid cases name real objects of organization A or sponsor S. Invalid
    (negative) cases keep their generated values: a real id would make them valid."""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if not case.path_parameters or negative:
        return st.just(case)
    real = real_path_parameters(context.operation.path, REAL_IDS)
    mapped = {name: real.get(name, value) for name, value in case.path_parameters.items()}
    return st.sampled_from([False, True, True]).map(
        lambda use_real: _with_path_parameters(case, mapped) if use_real else case
    )


def _with_path_parameters(case, path_parameters):
    case.path_parameters = path_parameters
    return case


def test_the_fuzzed_document_is_the_apps(client):
    assert client.get("/api/openapi.json").json == DOCUMENT


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(app, world, case):
    for persona in PERSONAS:  # each generated case, as each persona
        with world.isolated(), app.app_context():
            try:
                case.call_and_validate(app=app, headers=world.headers(persona), checks=CHECKS)
            except Exception as exc:
                exc.add_note(f"as {persona}")
                raise


# The operations the document's links join (see ``blp.links`` in the packages' api.py).
LINKED_OPERATIONS = [
    *("createOrganization", "getOrganization", "createSeatGrant", "createInvitation"),
    *("listMembers", "createSponsor", "getSponsor", "listSponsorships"),
    *("createToken", "revokeToken", "enroll", "getEnrollment"),
]


@pytest.mark.slow
def test_following_the_documents_links_as_a_platform_admin(app, world):
    """Stateful: the steps follow the document's links (create an organization, then grant
    seats and invite into it; create a sponsor, then read it; ...), each scenario in a savepoint
    rolled back at its end."""
    config = {**CONFIG, "phases": {"stateful": {"enabled": True}}}
    linked = schemathesis.openapi.from_dict(
        copy.deepcopy(DOCUMENT), config=SchemathesisConfig.from_dict(config)
    )
    stateful = linked.include(operation_id=LINKED_OPERATIONS).as_state_machine()
    headers = world.headers("platform")

    class Scenario(stateful):
        def setup(self):
            self.isolation = world.isolated()
            self.isolation.__enter__()

        def teardown(self):
            self.isolation.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"app": app, "headers": headers}

        def call(self, case, **kwargs):
            with app.app_context():
                return case.call(**kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Scenario.run(
        settings=hypothesis.settings(
            max_examples=MAX_EXAMPLES * 5,
            stateful_step_count=4,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
