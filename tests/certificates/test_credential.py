"""The signed Open Badges 3.0 credential, its keys and the revocation status list.

Pure library tests: no database, no app. Reference files (the OB 3.0 JSON Schema, the W3C
eddsa-rdfc-2022 test vectors) are exact copies; see README.md here.
"""

import base64
import copy
import gzip
import hashlib
import json
import os
import socket
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft201909Validator
from pyld.jsonld import JsonLdError

from lms.certificates import keys as keymod
from lms.certificates.credential import (
    CertificateFacts,
    build_credential,
    identity_hash,
    issuer_profile,
    public_keys_from_profile,
    status_list_credential,
    verify_credential,
)
from lms.certificates.jsonld import SHIPPED, load_document
from lms.certificates.keys import (
    IssuerKey,
    IssuerKeys,
    base58btc_decode,
    base58btc_encode,
    configured_issuer_keys,
    generate_key,
    issuer_keys,
    load_or_create_issuer_keys,
    private_key_pem,
    public_key_pem,
    raw_public_key_from_multibase,
    rotate_issuer_key,
)
from lms.certificates.proof import CredentialError, add_proof, canonicalize, verify_proof
from lms.certificates.status_list import decode_status_list, encode_status_list, is_set

HERE = Path(__file__).parent
BASE = "https://lms.example.org"
EMAIL = "Ada.Lovelace@Example.org"


def facts(**changes) -> CertificateFacts:
    values = dict(
        code="ABCD-EFGH-JKMN-PQRS",
        learner_name="Łukasz Ødegård Nguyễn 李小龍 محمد",
        learner_email=EMAIL,
        course_slug="open-source-basics",
        course_title="Open Source Basics",
        version_label="2024.2",
        content_hash=hashlib.sha256(b"course files").hexdigest(),
        criteria="Complete every lesson and pass every quiz with at least 80%.",
        organization_name="University of Examples OSPO",
        sponsor_name="Example Foundation",
        completed_at=datetime(2024, 5, 1, 9, 30, 12, 345000, tzinfo=UTC),
        issued_at=datetime(2024, 5, 1, 9, 30, 13, tzinfo=UTC),
        status_index=4242,
    )
    values.update(changes)
    return CertificateFacts(**values)


@pytest.fixture(scope="module")
def keys() -> IssuerKeys:
    return IssuerKeys((generate_key(1),))


@pytest.fixture(scope="module")
def credential(keys) -> dict:
    return build_credential(facts(), base_url=BASE, key=keys.signing)


@pytest.fixture(scope="module")
def published_keys(keys) -> dict[str, bytes]:
    """The keys as a verifier gets them: from the issuer profile, through JSON."""
    profile = json.loads(json.dumps(issuer_profile(BASE, keys)))
    return public_keys_from_profile(profile)


def fresh(document: dict) -> dict:
    return json.loads(json.dumps(document))


# -- the credential ------------------------------------------------------------------------------


def test_credential_verifies_against_the_published_key(credential, published_keys, keys):
    verify_credential(fresh(credential), published_keys)
    assert published_keys == {f"{BASE}/api/v1/issuer#key-1": keys.signing.public_bytes}


def test_credential_says_what_the_certificate_certifies(credential):
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["id"] == f"{BASE}/verify/ABCD-EFGH-JKMN-PQRS"
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == f"{BASE}/api/v1/issuer"
    assert credential["validFrom"] == "2024-05-01T09:30:13Z"
    assert credential["awardedDate"] == "2024-05-01T09:30:12Z"
    assert "University of Examples OSPO" in credential["description"]
    assert "Example Foundation" in credential["description"]

    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    name = [i for i in subject["identifier"] if i["identityType"] == "name"]
    assert name == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": facts().learner_name,
        }
    ]
    achievement = subject["achievement"]
    assert achievement["id"] == f"{BASE}/courses/open-source-basics#version-2024.2"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "Open Source Basics (2024.2)"
    assert achievement["version"] == "2024.2"
    assert achievement["criteria"] == {"narrative": facts().criteria}
    assert achievement["otherIdentifier"][0]["identifier"] == facts().content_hash

    assert credential["credentialStatus"] == {
        "id": f"{BASE}/api/v1/status-lists/revocation#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": f"{BASE}/api/v1/status-lists/revocation",
    }
    [proof] = credential["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{BASE}/api/v1/issuer#key-1"
    assert proof["proofValue"].startswith("z")


def test_achievement_id_is_stable_per_course_and_version(keys):
    one = build_credential(facts(), base_url=BASE, key=keys.signing)
    other_learner = build_credential(
        facts(code="WXYZ-WXYZ-WXYZ-WXYZ", learner_email="b@example.org", status_index=7),
        base_url=BASE,
        key=keys.signing,
    )
    next_version = build_credential(facts(version_label="2025.1"), base_url=BASE, key=keys.signing)
    achievement = lambda c: c["credentialSubject"]["achievement"]["id"]  # noqa: E731
    assert achievement(one) == achievement(other_learner) != achievement(next_version)


def test_building_is_deterministic(credential, keys):
    """The PDF attachment and the API answer are the same bytes."""
    assert build_credential(facts(), base_url=BASE, key=keys.signing) == credential


def test_credential_validates_against_the_ob3_achievement_credential_schema(credential):
    schema = json.loads((HERE / "ob_v3p0_achievementcredential_schema.json").read_text())
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    errors = [error.message for error in validator.iter_errors(fresh(credential))]
    assert errors == []
    # And the schema does catch a broken credential, so the check above means something.
    broken = fresh(credential)
    del broken["credentialSubject"]["achievement"]["criteria"]
    assert list(validator.iter_errors(broken))


def _set(path: str, value):
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(path: str):
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


TAMPERINGS = {
    "learner name": _set("credentialSubject.identifier.1.identityHash", "Mallory"),
    "email hash": _set("credentialSubject.identifier.0.identityHash", "sha256$" + "0" * 64),
    "salt": _set("credentialSubject.identifier.0.salt", "0" * 32),
    "hashed flag": _set("credentialSubject.identifier.0.hashed", False),
    "course title": _set("credentialSubject.achievement.name", "Advanced Cryptography (2024.2)"),
    "achievement description": _set("credentialSubject.achievement.description", "Other."),
    "course (achievement id)": _set(
        "credentialSubject.achievement.id", f"{BASE}/courses/other#version-2024.2"
    ),
    "version": _set("credentialSubject.achievement.version", "2025.1"),
    "content hash": _set("credentialSubject.achievement.otherIdentifier.0.identifier", "0" * 64),
    "criteria": _set("credentialSubject.achievement.criteria.narrative", "Nothing."),
    "achievement type": _set("credentialSubject.achievement.achievementType", "Diploma"),
    "credential name": _set("name", "Something else"),
    "credential description": _set("description", "Something else."),
    "organization (in the description)": lambda c: c.update(
        description=c["description"].replace("University of Examples", "Other University")
    ),
    "verification URL (code)": _set("id", f"{BASE}/verify/WXYZ-WXYZ-WXYZ-WXYZ"),
    "issue date": _set("validFrom", "2024-05-02T09:30:13Z"),
    "completion date": _set("awardedDate", "2023-05-01T09:30:12Z"),
    "added expiry": _set("validUntil", "2030-01-01T00:00:00Z"),
    "status index": _set("credentialStatus.statusListIndex", "4243"),
    "status entry id": _set("credentialStatus.id", f"{BASE}/api/v1/status-lists/revocation#1"),
    "status list": _set("credentialStatus.statusListCredential", "https://evil.example/list"),
    "status purpose": _set("credentialStatus.statusPurpose", "suspension"),
    "issuer name": _set("issuer.name", "Mallory University"),
    "issuer url": _set("issuer.url", "https://evil.example"),
    "type": _set("type", ["VerifiableCredential"]),
    "removed credential status": _delete("credentialStatus"),
    "removed learner name": lambda c: c["credentialSubject"]["identifier"].pop(),
    "undefined property (safe mode)": _set("nickname", "Ada"),
    "undefined nested property (safe mode)": _set("credentialSubject.grade", "A+"),
    "undefined type (safe mode)": _set(
        "type", ["VerifiableCredential", "OpenBadgeCredential", "X"]
    ),
    "relative id (safe mode)": _set("credentialSubject.id", "not-a-url"),
    "proof value": lambda c: c["proof"][0].update(
        proofValue=c["proof"][0]["proofValue"][:-2]
        + ("2" if c["proof"][0]["proofValue"][-2] != "2" else "3")
        + c["proof"][0]["proofValue"][-1]
    ),
    "proof value truncated": lambda c: c["proof"][0].update(
        proofValue=c["proof"][0]["proofValue"][:-3]
    ),
    "proof value not base58": _set("proof.0.proofValue", "z0OIl"),
    "proof value not multibase": _set("proof.0.proofValue", "abc"),
    "proof created": _set("proof.0.created", "2024-05-01T09:30:14Z"),
    "proof created not a date": _set("proof.0.created", "yesterday"),
    "proof cryptosuite": _set("proof.0.cryptosuite", "eddsa-jcs-2022"),
    "proof type": _set("proof.0.type", "Ed25519Signature2020"),
    "proof purpose": _set("proof.0.proofPurpose", "authentication"),
    "proof key": _set("proof.0.verificationMethod", f"{BASE}/api/v1/issuer#key-2"),
    "proof removed": _delete("proof"),
    "two proofs": lambda c: c["proof"].append(copy.deepcopy(c["proof"][0])),
    "context not shipped": lambda c: c["@context"].append("https://evil.example/context.json"),
}


@pytest.mark.parametrize("change", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_changing_any_field_or_the_proof_fails_verification(credential, published_keys, change):
    tampered = fresh(credential)
    change(tampered)
    assert tampered != credential
    with pytest.raises(CredentialError):
        verify_credential(tampered, published_keys)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("nickname", "Ada"), "not defined"),
        (_set("credentialSubject.grade", "A+"), "not defined"),
        (_set("type", ["VerifiableCredential", "OpenBadgeCredential", "X"]), "absolute IRI"),
        (_set("credentialSubject.id", "not-a-url"), "absolute IRI"),
    ],
)
def test_safe_mode_refuses_to_sign_what_the_signature_would_not_cover(
    credential, keys, change, message
):
    """A term the contexts do not define would fall out of the signed N-Quads: neither
    signing nor verifying accepts it, whatever the signature says."""
    document = fresh(credential)
    change(document)
    with pytest.raises(CredentialError, match=message):
        add_proof(
            document,
            keys.signing,
            verification_method=credential["proof"][0]["verificationMethod"],
            created=datetime(2024, 5, 1, tzinfo=UTC),
        )


def test_changing_the_issuer_fails_even_with_that_issuers_key(credential, keys):
    """Not only the key binding: the signature itself covers the issuer."""
    tampered = fresh(credential)
    tampered["issuer"]["id"] = "https://evil.example/api/v1/issuer"
    tampered["proof"][0]["verificationMethod"] = "https://evil.example/api/v1/issuer#key-1"
    evil_keys = {"https://evil.example/api/v1/issuer#key-1": keys.signing.public_bytes}
    with pytest.raises(CredentialError, match="signature"):
        verify_credential(tampered, evil_keys)


def test_another_key_does_not_verify(credential):
    other = generate_key(1)
    with pytest.raises(CredentialError, match="signature"):
        verify_credential(fresh(credential), {f"{BASE}/api/v1/issuer#key-1": other.public_bytes})


def test_a_key_of_another_controller_is_refused(credential, keys):
    """A credential claiming our issuer but signed by someone else's key is refused."""
    forged = fresh(credential)
    forged["proof"][0]["verificationMethod"] = "https://evil.example/issuer#key-1"
    with pytest.raises(CredentialError, match="issuer"):
        verify_credential(forged, {"https://evil.example/issuer#key-1": keys.signing.public_bytes})


@pytest.mark.parametrize("value", [None, [], "credential", 42])
def test_verify_refuses_what_is_not_a_credential(value, published_keys):
    with pytest.raises(CredentialError):
        verify_credential(value, published_keys)


def test_timestamps_must_be_timezone_aware(keys):
    with pytest.raises(ValueError, match="timezone"):
        build_credential(facts(issued_at=datetime(2024, 5, 1)), base_url=BASE, key=keys.signing)


def test_timestamps_are_given_in_utc(keys):
    eastern = timezone(timedelta(hours=-4))
    moment = datetime(2024, 5, 1, 5, 30, 13, tzinfo=eastern)
    credential = build_credential(facts(issued_at=moment), base_url=BASE, key=keys.signing)
    assert credential["validFrom"] == "2024-05-01T09:30:13Z"


# -- the learner's email -------------------------------------------------------------------------


def test_identity_hash_never_contains_the_plain_email(credential):
    text = json.dumps(credential, ensure_ascii=False).lower()
    assert EMAIL.lower() not in text
    assert "ada.lovelace" not in text
    [email] = [i for i in credential["credentialSubject"]["identifier"] if i["hashed"] is True]
    assert email["identityType"] == "emailAddress"
    assert email["identityHash"].startswith("sha256$")
    # Whoever knows the address can check it: sha256(email + salt), the address lower-cased.
    expected = hashlib.sha256((EMAIL.lower() + email["salt"]).encode()).hexdigest()
    assert email["identityHash"] == "sha256$" + expected
    assert identity_hash(f"  {EMAIL.upper()} ", email["salt"]) == email["identityHash"]


def test_every_certificate_has_its_own_salt(credential, keys):
    other = build_credential(facts(code="WXYZ-WXYZ-WXYZ-WXYZ"), base_url=BASE, key=keys.signing)
    salt = lambda c: c["credentialSubject"]["identifier"][0]["salt"]  # noqa: E731
    hashed = lambda c: c["credentialSubject"]["identifier"][0]["identityHash"]  # noqa: E731
    assert len(salt(credential)) == 32
    assert salt(credential) != salt(other)
    assert hashed(credential) != hashed(other)


# -- the JSON-LD document loader -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://evil.example/context.json",
        "http://www.w3.org/ns/credentials/v2",  # not the https URL that is shipped
        "file:///etc/passwd",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    ],
)
def test_loader_refuses_any_url_not_shipped(url):
    with pytest.raises(JsonLdError):
        load_document(url, {})


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to resolve a name or open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_loader_serves_the_shipped_contexts_without_network(no_network):
    for url, name in SHIPPED.items():
        remote = load_document(url, {})
        assert remote["documentUrl"] == url
        assert remote["document"] == json.loads(
            (HERE.parents[1] / "lms/certificates/jsonld" / name).read_text()
        )
        assert "@context" in remote["document"]
        remote["document"]["@context"] = "mutated"  # a caller's change does not leak
        assert load_document(url, {})["document"]["@context"] != "mutated"


def test_signing_and_verifying_need_no_network(no_network, keys, published_keys):
    credential = build_credential(
        facts(code="NNNN-NNNN-NNNN-NNNN"), base_url=BASE, key=keys.signing
    )
    verify_credential(credential, published_keys)
    verify_credential(status_list_credential(BASE, [1], keys.signing), published_keys)
    json.dumps(issuer_profile(BASE, keys))


def test_shipped_contexts_are_exact_copies():
    """The digests listed in the README (the VC 2.0 one is published in the Recommendation)."""
    readme = (HERE.parents[1] / "lms/certificates/jsonld/README.md").read_text()
    for name in SHIPPED.values():
        data = (HERE.parents[1] / "lms/certificates/jsonld" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() in readme, name
    v2 = (HERE.parents[1] / "lms/certificates/jsonld/credentials-v2.json").read_bytes()
    assert (
        hashlib.sha256(v2).hexdigest()
        == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )


# -- the W3C test vector -------------------------------------------------------------------------

VECTORS = HERE / "eddsa-rdfc-2022"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def vector_loader(url, options=None):
    """The shipped contexts plus the examples context the W3C test vector uses."""
    if url == EXAMPLES_V2:
        document = json.loads((HERE / "credentials-examples-v2.json").read_text())
        return {"contextUrl": None, "documentUrl": url, "document": document}
    return load_document(url, options)


def test_proof_matches_the_w3c_eddsa_rdfc_2022_test_vector():
    """Same key, same document, same proof options: byte-for-byte the spec's proofValue
    (Ed25519 is deterministic), so other implementations verify what we sign."""
    key_pair = json.loads((VECTORS / "keyPair.json").read_text())
    secret = base58btc_decode(key_pair["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"  # the multicodec prefix of an Ed25519 private key
    private_key = Ed25519PrivateKey.from_private_bytes(secret[2:])
    key = IssuerKey.from_private(1, private_key)
    assert key.public_key_multibase == key_pair["publicKeyMultibase"]

    signed = json.loads((VECTORS / "signedDataInt.json").read_text())
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    assert (
        canonicalize(unsigned, loader=vector_loader)
        == (VECTORS / "canonDocDataInt.txt").read_text().rstrip("\n") + "\n"
    )

    ours = add_proof(
        unsigned,
        key,
        verification_method=signed["proof"]["verificationMethod"],
        created=datetime.fromisoformat(signed["proof"]["created"]),
        loader=vector_loader,
    )
    assert ours["proof"] == [signed["proof"]]

    public = raw_public_key_from_multibase(key_pair["publicKeyMultibase"])
    verify_proof(signed, public, loader=vector_loader)
    signed["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(CredentialError):
        verify_proof(signed, public, loader=vector_loader)


def test_a_context_another_loader_resolved_is_still_refused():
    """pyld's process-wide context cache does not let a URL past the shipped-only loader."""
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_V2],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
    }
    assert canonicalize(document, loader=vector_loader)
    with pytest.raises(CredentialError, match="not valid JSON-LD"):
        canonicalize(document)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
        (bytes.fromhex("ed01") + bytes(32), None),
    ],
)
def test_base58btc(data, text):
    encoded = base58btc_encode(data)
    if text is not None:
        assert encoded == text
    assert base58btc_decode(encoded) == data


def test_base58btc_refuses_characters_outside_the_alphabet():
    with pytest.raises(ValueError):
        base58btc_decode("0OIl")


# -- keys ----------------------------------------------------------------------------------------


def test_issuer_profile_lists_every_key(tmp_path):
    keys = rotate_issuer_key(tmp_path)
    profile = issuer_profile(BASE, keys, name="Example LMS")
    assert profile["id"] == f"{BASE}/api/v1/issuer"
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Example LMS"
    assert [m["id"] for m in profile["verificationMethod"]] == [
        f"{BASE}/api/v1/issuer#key-1",
        f"{BASE}/api/v1/issuer#key-2",
    ]
    assert profile["assertionMethod"] == [m["id"] for m in profile["verificationMethod"]]
    for method, key in zip(profile["verificationMethod"], keys.keys, strict=True):
        assert method["type"] == "Multikey"
        assert method["controller"] == profile["id"]
        multibase = method["publicKeyMultibase"]
        assert multibase.startswith("z6Mk")  # what every Ed25519 Multikey starts with
        assert base58btc_decode(multibase[1:]) == b"\xed\x01" + key.public_bytes
    canonicalize(profile)  # valid JSON-LD, every term defined by the shipped contexts


def test_a_credential_signed_with_a_retired_key_still_verifies(tmp_path):
    old_keys = load_or_create_issuer_keys(tmp_path)
    old = build_credential(facts(), base_url=BASE, key=old_keys.signing)

    new_keys = rotate_issuer_key(tmp_path)
    assert [key.number for key in new_keys.keys] == [1, 2]
    assert new_keys.signing.number == 2
    new = build_credential(facts(code="WXYZ-WXYZ-WXYZ-WXYZ"), base_url=BASE, key=new_keys.signing)
    assert new["proof"][0]["verificationMethod"].endswith("#key-2")

    published = public_keys_from_profile(fresh(issuer_profile(BASE, new_keys)))
    verify_credential(old, published)
    verify_credential(new, published)

    # The private half of the retired key may be destroyed: its public key stays published.
    (tmp_path / "key-1.pub.pem").write_bytes(public_key_pem(new_keys.keys[0]))
    (tmp_path / "key-1.pem").unlink()
    reloaded = load_or_create_issuer_keys(tmp_path)
    assert reloaded.keys[0].private_key is None
    assert reloaded.signing.number == 2
    verify_credential(old, public_keys_from_profile(issuer_profile(BASE, reloaded)))


def test_generated_key_is_private_and_reused(tmp_path):
    directory = tmp_path / "instance" / "issuer-keys"
    first = load_or_create_issuer_keys(directory)
    assert [path.name for path in directory.iterdir()] == ["key-1.pem"]
    assert stat.S_IMODE((directory / "key-1.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    again = load_or_create_issuer_keys(directory)
    assert again.signing.public_bytes == first.signing.public_bytes


def test_workers_starting_at_once_end_up_with_one_key(tmp_path):
    directory = tmp_path / "issuer-keys"
    results, errors = [], []
    barrier = threading.Barrier(8)

    def start_worker():
        try:
            barrier.wait()
            results.append(load_or_create_issuer_keys(directory).signing.public_bytes)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start_worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(path.name for path in directory.iterdir()) == ["key-1.pem"]  # no leftovers


def test_issuer_keys_for_an_app_default_to_instance(tmp_path):
    app = SimpleNamespace(config={}, instance_path=str(tmp_path))
    keys = issuer_keys(app)
    assert (tmp_path / "issuer-keys" / "key-1.pem").exists()
    assert issuer_keys(app).signing.public_bytes == keys.signing.public_bytes


def test_issuer_keys_configured(tmp_path):
    retired, signing = generate_key(1), generate_key(2)
    app = SimpleNamespace(
        config={
            "CERTIFICATE_SIGNING_KEY": private_key_pem(signing).decode(),
            "CERTIFICATE_SIGNING_KEY_NUMBER": 2,
            # As an LMS_ environment variable gives it: JSON, so the numbers are strings.
            "CERTIFICATE_RETIRED_PUBLIC_KEYS": {"1": public_key_pem(retired).decode()},
        },
        instance_path=str(tmp_path),
    )
    keys = issuer_keys(app)
    assert [key.number for key in keys.keys] == [1, 2]
    assert keys.signing.public_bytes == signing.public_bytes
    assert keys.keys[0].public_bytes == retired.public_bytes
    assert not (tmp_path / "issuer-keys").exists()  # nothing generated


@pytest.mark.parametrize(
    "problem",
    ["not a pem", "rsa", "retired newer than signing"],
)
def test_bad_configured_keys_are_refused(problem):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem, retired = private_key_pem(generate_key(1)), {}
    if problem == "not a pem":
        pem = b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
    elif problem == "rsa":
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        retired = {2: public_key_pem(generate_key(2))}
    with pytest.raises(keymod.IssuerKeyError):
        configured_issuer_keys(pem, number=1, retired_public_keys=retired)


def test_a_retired_key_cannot_sign(keys):
    public_only = IssuerKey(1, keys.signing.public_key)
    with pytest.raises(ValueError):
        build_credential(facts(), base_url=BASE, key=public_only)


# -- the revocation status list ------------------------------------------------------------------


def _decode_independently(encoded: str) -> bytes:
    """GZIP + base64url multibase, decoded with nothing but the standard library."""
    assert encoded.startswith("u")  # multibase base64url, no padding
    assert "=" not in encoded
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_status_list_decodes_with_the_revoked_bits_set(keys, published_keys):
    revoked = [0, 7, 8, 4242, 131_071]
    list_credential = status_list_credential(
        BASE, revoked, keys.signing, valid_from=datetime(2024, 6, 1, tzinfo=UTC)
    )
    verify_credential(fresh(list_credential), published_keys)
    assert list_credential["id"] == f"{BASE}/api/v1/status-lists/revocation"
    assert list_credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert list_credential["issuer"] == f"{BASE}/api/v1/issuer"
    assert list_credential["validFrom"] == "2024-06-01T00:00:00Z"
    subject = list_credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"

    bits = _decode_independently(subject["encodedList"])
    assert len(bits) * 8 == 131_072
    set_bits = [i for i in range(len(bits) * 8) if bits[i // 8] & (0x80 >> (i % 8))]
    assert set_bits == revoked
    assert bits[0] == 0b1000_0001  # index 0 is the left-most bit of the first byte
    assert decode_status_list(subject["encodedList"]) == bits
    assert is_set(bits, 4242) and not is_set(bits, 4241)


def test_status_list_entry_points_at_the_list(credential, keys):
    entry = credential["credentialStatus"]
    list_credential = status_list_credential(BASE, [facts().status_index], keys.signing)
    assert entry["statusListCredential"] == list_credential["id"]
    bits = _decode_independently(list_credential["credentialSubject"]["encodedList"])
    assert is_set(bits, int(entry["statusListIndex"]))


def test_status_list_tampering_fails(keys, published_keys):
    list_credential = fresh(status_list_credential(BASE, [5], keys.signing))
    list_credential["credentialSubject"]["encodedList"] = encode_status_list([])
    with pytest.raises(CredentialError):
        verify_credential(list_credential, published_keys)


def test_empty_status_list_and_bad_indexes():
    assert not any(_decode_independently(encode_status_list([])))
    assert len(_decode_independently(encode_status_list([], size=262_144))) == 32_768
    for bad in ([-1], [131_072]):
        with pytest.raises(ValueError):
            encode_status_list(bad)
    with pytest.raises(ValueError):
        encode_status_list([], size=1024)  # under the specification's minimum


@pytest.mark.parametrize("encoded", ["zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"x").decode()])
def test_decode_refuses_what_is_not_a_status_list(encoded):
    with pytest.raises(ValueError):
        decode_status_list(encoded)


def test_decode_refuses_a_decompression_bomb():
    bomb = gzip.compress(bytes(20 * 1024 * 1024), mtime=0)  # 20 MB of zeros, ~20 KB packed
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(ValueError, match="16 MB"):
        decode_status_list(encoded)


def test_the_private_key_file_is_never_world_readable_even_with_a_loose_umask(tmp_path):
    old = os.umask(0)
    try:
        load_or_create_issuer_keys(tmp_path / "keys")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "keys" / "key-1.pem").stat().st_mode) == 0o600
