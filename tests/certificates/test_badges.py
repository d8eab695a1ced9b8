"""The certificate's Open Badges 3.0 credential as the app serves it: attached to the PDF,
served to its owner, verifiable against the published issuer profile, and revoked through the
published status list."""

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from lms.certificates import codes
from lms.certificates.credential import public_keys_from_profile, verify_credential
from lms.certificates.proof import CredentialError
from lms.certificates.status_list import decode_status_list, is_set
from tests.accounts.test_api import assert_error_shape
from tests.conftest import log_in
from tests.factories import UserFactory

HERE = Path(__file__).parent


def published_keys(client) -> dict:
    response = client.get("/api/v1/issuer")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    return public_keys_from_profile(response.json)


def test_the_pdf_carries_the_signed_credential_that_the_api_serves(client, certificate, tmp_path):
    code = codes.display(certificate.code)
    served = client.get(f"/api/v1/certificates/{code}/credential")
    assert served.status_code == 200
    assert served.mimetype == "application/vc+ld+json"
    credential = json.loads(served.data)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(client.get(f"/api/v1/certificates/{code}.pdf").data)
    attached = tmp_path / "credential.json"
    subprocess.run(
        ["pdfdetach", "-save", "1", "-o", str(attached), str(pdf)], check=True, timeout=30
    )
    assert json.loads(attached.read_bytes()) == credential  # the same signed document
    assert credential["id"] == f"http://lms.test/verify/{code}"
    assert "OpenBadgeCredential" in credential["type"]
    subject = credential["credentialSubject"]
    assert subject["achievement"]["name"].startswith(certificate.course_title)
    assert "Complete all" in subject["achievement"]["criteria"]["narrative"]
    assert certificate.learner_email not in json.dumps(credential)
    schema = json.loads((HERE / "ob_v3p0_achievementcredential_schema.json").read_text())
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(credential)] == []
    keys = published_keys(client)
    verify_credential(credential, keys)
    credential["credentialSubject"]["achievement"]["name"] = "Something else"
    with pytest.raises(CredentialError):
        verify_credential(credential, keys)


def test_only_the_owner_and_the_organizations_admins_get_the_credential(
    app, client, certificate, org_admin
):
    code = codes.display(certificate.code)
    log_in(client, org_admin)
    assert client.get(f"/api/v1/certificates/{code}/credential").status_code == 200
    stranger = log_in(app.test_client(), UserFactory())
    assert_error_shape(stranger.get(f"/api/v1/certificates/{code}/credential"), 404)
    anonymous = app.test_client()
    assert anonymous.get(f"/api/v1/certificates/{code}/credential").status_code == 401
    assert anonymous.get("/api/v1/issuer").status_code == 200  # the public documents are public
    assert anonymous.get("/api/v1/status-lists/revocation").status_code == 200


def test_revocation_shows_in_the_signed_status_list(app, client, certificate, admin):
    code = codes.display(certificate.code)
    entry = json.loads(client.get(f"/api/v1/certificates/{code}/credential").data)[
        "credentialStatus"
    ]
    assert entry["statusListCredential"] == "http://lms.test/api/v1/status-lists/revocation"
    index = int(entry["statusListIndex"])

    def bit() -> bool:
        status_list = client.get("/api/v1/status-lists/revocation").json
        verify_credential(status_list, published_keys(client))
        return is_set(decode_status_list(status_list["credentialSubject"]["encodedList"]), index)

    assert bit() is False
    admin_client = log_in(app.test_client(), admin)
    response = admin_client.post(
        f"/api/v1/certificates/{code}/revoke", json={"reason": "Issued by mistake"}
    )
    assert response.status_code == 200
    assert bit() is True
