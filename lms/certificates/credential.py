"""The signed Open Badges 3.0 credential of a certificate, as a pure library.

``build_credential`` turns the facts a certificate certifies into an ``OpenBadgeCredential``
(Verifiable Credentials Data Model 2.0) with an embedded ``DataIntegrityProof`` made with the
``eddsa-rdfc-2022`` cryptosuite (https://www.w3.org/TR/vc-di-eddsa/):

1. the proof options (type, cryptosuite, created, verificationMethod, proofPurpose) get the
   document's ``@context``; both they and the document without its proof are canonicalized
   with RDFC-1.0 (pyld's URDNA2015) into N-Quads;
2. hashData = SHA-256(canonical proof options) + SHA-256(canonical document);
3. proofValue = "z" + base58btc(Ed25519 signature of hashData).

Canonicalization loads the ``@context`` documents only from the copies shipped in
``lms.certificates.jsonld`` and runs in "safe mode": a property or type the contexts do not
define would silently fall out of the signed N-Quads, so it is an error instead. Hence every
field of a credential is covered by its signature.

Nothing here knows about the database: the caller passes ``CertificateFacts`` and a key.
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from lms.certificates.jsonld import CID_V1, CREDENTIALS_V2, OPEN_BADGES_V3
from lms.certificates.keys import (
    IssuerKey,
    IssuerKeys,
    raw_public_key_from_multibase,
)
from lms.certificates.proof import (
    PROOF_PURPOSE,
    CredentialError,
    _single_proof,
    _timestamp,
    add_proof,
    verify_proof,
)
from lms.certificates.status_list import MIN_SIZE, encode_status_list

ISSUER_PATH = "/api/v1/issuer"
REVOCATION_LIST_PATH = "/api/v1/status-lists/revocation"
DEFAULT_ISSUER_NAME = "lms"
CONTENT_HASH_TYPE = "ext:courseContentSha256"  # OB 3.0 allows "ext:" identifier types


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate certifies: the snapshot kept when it was issued."""

    code: str  # "ABCD-EFGH-JKMN-PQRS"
    learner_name: str
    learner_email: str  # only ever appears hashed and salted (identityHash)
    course_slug: str
    course_title: str
    version_label: str
    content_hash: str
    criteria: str  # the course's completion rules, in words
    organization_name: str
    sponsor_name: str | None
    completed_at: datetime
    issued_at: datetime
    status_index: int  # this certificate's bit in the revocation status list


# -- URLs ------------------------------------------------------------------------------------


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def issuer_id(base_url: str) -> str:
    """The issuer profile's id: a stable URL that serves it, with every public key."""
    return _base(base_url) + ISSUER_PATH


def revocation_list_id(base_url: str) -> str:
    return _base(base_url) + REVOCATION_LIST_PATH


def verification_url(base_url: str, code: str) -> str:
    """The credential's id: the public verification page of its certificate."""
    return f"{_base(base_url)}/verify/{quote(code, safe='')}"


def achievement_id(base_url: str, course_slug: str, version_label: str) -> str:
    """One id per course and version: the course page, with the version as fragment."""
    slug, label = quote(course_slug, safe=""), quote(version_label, safe="")
    return f"{_base(base_url)}/courses/{slug}#version-{label}"


def verification_method(base_url: str, key: IssuerKey) -> str:
    return f"{issuer_id(base_url)}#{key.fragment}"


# -- building ----------------------------------------------------------------------------------


def identity_salt(key: IssuerKey, code: str) -> str:
    """The salt of a certificate's identityHash: HMAC(signing key, code).

    Derived rather than random so that building the credential is a pure function of the facts
    and the key (the PDF attachment and the API give the same bytes); different for every
    certificate, so hashes cannot be linked across certificates; unknowable without the key.
    """
    if key.private_key is None:
        raise ValueError(f"{key.fragment} cannot sign: it has no private key")
    secret = key.private_key.private_bytes_raw()
    message = b"lms identityHash salt\0" + code.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash of an email address: "sha256$" + hex SHA-256(email + salt).

    The address is trimmed and lower-cased first, as whoever checks it will type it.
    """
    normalized = email.strip().lower()
    return "sha256$" + hashlib.sha256((normalized + salt).encode("utf-8")).hexdigest()


def _achievement(facts: CertificateFacts, base_url: str) -> dict:
    name = f"{facts.course_title} ({facts.version_label})"
    return {
        "id": achievement_id(base_url, facts.course_slug, facts.version_label),
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": name,
        "description": (
            f"Completion of the course “{facts.course_title}”, version {facts.version_label}."
        ),
        "criteria": {"narrative": facts.criteria},
        "version": facts.version_label,
        # The exact content the learner completed: the SHA-256 over the course's files.
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": facts.content_hash,
                "identifierType": CONTENT_HASH_TYPE,
            }
        ],
    }


def build_credential(
    facts: CertificateFacts,
    *,
    base_url: str,
    key: IssuerKey,
    issuer_name: str = DEFAULT_ISSUER_NAME,
) -> dict:
    """The signed ``OpenBadgeCredential`` of a certificate, signed with ``key``."""
    issuer = issuer_id(base_url)
    salt = identity_salt(key, facts.code)
    status_list = revocation_list_id(base_url)
    description = (
        f"Certificate of completion of the course “{facts.course_title}” "
        f"({facts.version_label}), earned as a member of {facts.organization_name}"
    )
    if facts.sponsor_name:
        description += f", on a seat sponsored by {facts.sponsor_name}"
    credential = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": verification_url(base_url, facts.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{facts.course_title} ({facts.version_label})",
        "description": description + ".",
        "issuer": {"id": issuer, "type": ["Profile"], "name": issuer_name, "url": _base(base_url)},
        "validFrom": _timestamp(facts.issued_at),
        "awardedDate": _timestamp(facts.completed_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": identity_hash(facts.learner_email, salt),
                    "salt": salt,
                },
                # OB 3.0 carries a recipient's name as an unhashed "name" identity.
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": facts.learner_name,
                },
            ],
            "achievement": _achievement(facts, base_url),
        },
        "credentialStatus": {
            "id": f"{status_list}#{facts.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.status_index),
            "statusListCredential": status_list,
        },
    }
    return add_proof(
        credential,
        key,
        verification_method=verification_method(base_url, key),
        created=facts.issued_at,
    )


def issuer_profile(base_url: str, keys: IssuerKeys, *, name: str = DEFAULT_ISSUER_NAME) -> dict:
    """The issuer's ``Profile``, with every key as a Multikey (retired ones too, so that what
    they signed keeps verifying), each listed under ``assertionMethod``."""
    issuer = issuer_id(base_url)
    methods = [
        {
            "id": verification_method(base_url, key),
            "type": "Multikey",
            "controller": issuer,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys.keys
    ]
    return {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3, CID_V1],
        "id": issuer,
        "type": ["Profile"],
        "name": name,
        "url": _base(base_url),
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def public_keys_from_profile(profile: Mapping) -> dict[str, bytes]:
    """{verificationMethod id: raw Ed25519 public key} for the profile's assertion keys."""
    try:
        controller = profile["id"]
        allowed = set(profile.get("assertionMethod") or [])
        keys = {}
        for method in profile.get("verificationMethod") or []:
            if (
                method.get("type") == "Multikey"
                and method.get("controller") == controller
                and method.get("id") in allowed
            ):
                keys[method["id"]] = raw_public_key_from_multibase(method["publicKeyMultibase"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CredentialError(f"not an issuer profile with Multikey keys: {exc}") from exc
    return keys


def status_list_credential(
    base_url: str,
    revoked_indexes: Iterable[int],
    key: IssuerKey,
    *,
    size: int = MIN_SIZE,
    valid_from: datetime | None = None,
) -> dict:
    """The signed ``BitstringStatusListCredential`` whose bit ``i`` is set when the certificate
    with ``status_index`` ``i`` is revoked. ``valid_from`` defaults to now."""
    moment = valid_from or datetime.now(UTC)
    list_id = revocation_list_id(base_url)
    credential = {
        "@context": [CREDENTIALS_V2],
        "id": list_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(base_url),
        "validFrom": _timestamp(moment),
        "credentialSubject": {
            "id": f"{list_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(revoked_indexes, size),
        },
    }
    return add_proof(
        credential, key, verification_method=verification_method(base_url, key), created=moment
    )


def verify_credential(credential: dict, public_keys: Mapping[str, bytes]) -> None:
    """Verify a credential this library made (or a status list credential).

    ``public_keys`` maps verificationMethod ids to raw Ed25519 public keys, as
    ``public_keys_from_profile(issuer_profile(...))`` gives them. The proof must be for
    assertion, made with one of those keys, and the key must belong to the credential's issuer
    (``{issuer}#...``); then the signature must match every field. Raises CredentialError.
    """
    if not isinstance(credential, dict):
        raise CredentialError("a credential is a JSON object")
    proof = _single_proof(credential)
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    method = proof.get("verificationMethod")
    if not isinstance(issuer, str) or not isinstance(method, str):
        raise CredentialError("the credential names no issuer or no verification method")
    if not method.startswith(issuer + "#"):
        raise CredentialError("the proof's key does not belong to the credential's issuer")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise CredentialError(f"the proof's purpose is not {PROOF_PURPOSE}")
    if method not in public_keys:
        raise CredentialError(f"unknown key {method!r}")
    verify_proof(credential, public_keys[method])
