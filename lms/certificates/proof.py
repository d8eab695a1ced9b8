"""The ``eddsa-rdfc-2022`` Data Integrity proof (https://www.w3.org/TR/vc-di-eddsa/), used by
``lms.certificates.credential``: RDFC-1.0 canonicalization in safe mode (pyld, contexts only
from the shipped copies), SHA-256 of the proof options and of the document, an Ed25519
signature as multibase base58btc. Pure: no database, no Flask."""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld

from lms.certificates.jsonld import load_document
from lms.certificates.keys import IssuerKey, base58btc_decode, base58btc_encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"
Loader = Callable[[str, dict], dict]
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class CredentialError(Exception):
    """The credential (or its proof, key or status list) is malformed or does not verify."""


def _timestamp(moment: datetime) -> str:
    """An XML Schema dateTime in UTC with a "Z", to the second."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("credential timestamps must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the eddsa-rdfc-2022 proof --------------------------------------------------------------


def _check_safe(node) -> None:
    """Every @id and @type left after expansion must be an absolute IRI or a blank node:
    a relative one (an undefined type, an id that is not a URL) is dropped from the N-Quads."""
    if isinstance(node, list):
        for item in node:
            _check_safe(item)
    elif isinstance(node, dict):
        for name, value in node.items():
            if name in ("@id", "@type"):
                for iri in value if isinstance(value, list) else [value]:
                    if not isinstance(iri, str) or not (
                        iri.startswith("_:") or _ABSOLUTE_IRI.match(iri)
                    ):
                        raise CredentialError(f"{name} {iri!r} is not an absolute IRI")
            elif name != "@value":
                _check_safe(value)


def canonicalize(document: dict, *, loader: Loader = load_document) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, in safe mode (see module doc)."""

    def dropped(term) -> None:
        raise CredentialError(f"the property {term!r} is not defined by the credential's contexts")

    try:
        # No base IRI: pyld would otherwise resolve a relative IRI against a made-up base
        # (http://example.org/base/) where other processors drop it; left relative, it is
        # caught by _check_safe.
        expanded = jsonld.expand(
            document, {"documentLoader": loader, "base": None}, on_property_dropped=dropped
        )
        _check_safe(expanded)
        return jsonld.normalize(
            expanded,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": loader,
            },
        )
    except jsonld.JsonLdError as exc:
        raise CredentialError(f"the credential is not valid JSON-LD: {exc}") from exc


def _hash_data(unsecured: dict, proof_options: dict, loader: Loader) -> bytes:
    """proofConfigHash + transformedDocumentHash (vc-di-eddsa, eddsa-rdfc-2022)."""
    if proof_options.get("type") != PROOF_TYPE or proof_options.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialError(f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    created = proof_options.get("created")
    if created is not None:
        try:
            datetime.fromisoformat(created)
        except (TypeError, ValueError) as exc:
            raise CredentialError("the proof's created is not a dateTime") from exc
    config = {name: value for name, value in proof_options.items() if name != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    config_hash = hashlib.sha256(canonicalize(config, loader=loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured, loader=loader).encode("utf-8"))
    return config_hash + document_hash.digest()


def add_proof(
    document: dict,
    key: IssuerKey | Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
    loader: Loader = load_document,
) -> dict:
    """``document`` with an eddsa-rdfc-2022 ``DataIntegrityProof`` (as a one-item list, the
    form the OB 3.0 schema asks for) signed by ``key``."""
    private_key = key.private_key if isinstance(key, IssuerKey) else key
    if private_key is None:
        raise ValueError("a retired key without its private half cannot sign")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = private_key.sign(_hash_data(unsecured, proof, loader))
    return {**unsecured, "proof": [{**proof, "proofValue": "z" + base58btc_encode(signature)}]}


def _single_proof(document: dict) -> dict:
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        raise CredentialError("the credential must carry exactly one proof")
    return proof


def verify_proof(document: dict, public_key: bytes, *, loader: Loader = load_document) -> None:
    """Check the document's one eddsa-rdfc-2022 proof against a raw Ed25519 public key;
    raises CredentialError if it does not verify."""
    if not isinstance(document, dict):
        raise CredentialError("a credential is a JSON object")
    proof = _single_proof(document)
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise CredentialError("the proofValue must be multibase base58btc ('z...')")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError as exc:
        raise CredentialError(f"the proofValue is not base58btc: {exc}") from exc
    if len(signature) != 64:
        raise CredentialError("the proofValue is not an Ed25519 signature")
    unsecured = {name: item for name, item in document.items() if name != "proof"}
    hash_data = _hash_data(unsecured, proof, loader)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, hash_data)
    except (InvalidSignature, ValueError) as exc:
        raise CredentialError("the signature does not match the credential") from exc
