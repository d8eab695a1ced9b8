"""Request ids, the one-line-per-request log, and the redaction of secrets in every record."""

import json
import logging
import re

import pytest

from lms.core.logs import redact


def request_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "lms.requests"]


def test_a_request_id_is_made_returned_and_logged_once(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.get("/healthz")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (line,) = request_lines(caplog)
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["request_id"] == request_id and line["user_id"] is None
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != request_id


def test_a_valid_incoming_request_id_is_kept_an_invalid_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a-9c1e.7"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a-9c1e.7"
    for bad in ("", "two words", "<script>", "x" * 200, "id\tforged=1"):
        answer = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), bad


def test_every_record_of_a_request_carries_its_id_and_the_user(user_client, user, caplog):
    caplog.set_level(logging.DEBUG)
    response = user_client.get("/api/v1/me", headers={"X-Request-ID": "trace-1"})
    assert response.status_code == 200
    during = [r for r in caplog.records if r.name != "lms.requests" or "trace-1" in r.getMessage()]
    assert during and all(r.request_id == "trace-1" for r in during)
    (line,) = request_lines(caplog)
    assert line["user_id"] == user.id and line["request_id"] == "trace-1"


def test_json_errors_and_error_pages_quote_the_request_id(client):
    api = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "ref-42"})
    assert api.status_code == 404
    assert api.json["request_id"] == "ref-42" == api.headers["X-Request-ID"]
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert f"Quote this reference: <code>{page.headers['X-Request-ID']}</code>" in page.text


def test_the_error_schema_documents_the_request_id(client):
    spec = client.get("/api/openapi.json").json
    properties = spec["components"]["schemas"]["Error"]["properties"]
    assert properties["request_id"]["type"] == "string"


def test_logged_paths_mask_secret_route_arguments_and_query_values(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/password/reset/SeCrEtToKeN123?token=QuErYsEcReT&page=2")
    client.get("/account/verify-email/VeRiFyToKeN456")
    client.get("/invitations/InViTeToKeN789")
    paths = [line["path"] for line in request_lines(caplog)]
    assert paths == [
        "/password/reset/[redacted]?token=[redacted]&page=2",
        "/account/verify-email/[redacted]",
        "/invitations/[redacted]",
    ]
    assert not re.search("SeCrEt|QuErY|VeRiFy|InViTe", caplog.text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /password/reset/abcDEF123_-x HTTP/1.1", "abcDEF123_-x"),
        ("link: http://lms.test/invitations/Zy9_k-Q?x=1", "Zy9_k-Q"),
        ("https://lms.test/account/verify-email/Ab.Cd-Ef", "Ab.Cd-Ef"),
        ("token lms_AbCdEf0123456789xyz made", "AbCdEf0123456789xyz"),
        ("Authorization: Bearer s3cr3t-value", "s3cr3t-value"),
        ('{"email": "a@b.c", "password": "hunter2 hunter2"}', "hunter2"),
        ("password=correct-horse&next=/", "correct-horse"),
        ("{'token': 'tok-123'}", "tok-123"),
    ],
)
def test_redact_masks_what_it_recognises(app, text, secret):
    assert secret not in redact(text)
    assert "[redacted]" in redact(text)


def test_redaction_applies_to_any_logger_and_to_tracebacks(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").debug("sent %s", "/password/reset/LeAkEd1")
    try:
        raise ValueError("bad link /invitations/LeAkEd2")
    except ValueError:
        logging.getLogger("other").exception("failed")
    assert "LeAkEd" not in caplog.text
    assert caplog.text.count("[redacted]") == 3  # the message, the source line, the error
