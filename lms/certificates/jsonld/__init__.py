"""The JSON-LD context documents the credentials use, shipped inside the package.

Signing and verifying a credential canonicalizes it, which needs its ``@context`` documents.
They are exact copies of the published files (see README.md beside them) and are never fetched
at run time: ``load_document`` is the pyld document loader that serves these and refuses every
other URL, so a credential that names any other context cannot be processed, and no
canonicalization ever touches the network.

pyld keeps a process-wide cache of resolved contexts, but it caches a remote URL only when
the loader tags the document it returns; these are untagged, so every URL a credential names
goes through this loader, whatever another loader resolved before (a test checks this).
"""

import copy
import json
from functools import cache
from pathlib import Path

from pyld.jsonld import JsonLdError

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CID_V1 = "https://www.w3.org/ns/cid/v1"

HERE = Path(__file__).parent
SHIPPED = {
    CREDENTIALS_V2: "credentials-v2.json",
    OPEN_BADGES_V3: "ob-v3p0-context-3.0.3.json",
    CID_V1: "cid-v1.json",
}


@cache
def _read(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def shipped_document(url: str) -> dict:
    """The parsed context document shipped for ``url`` (a fresh copy); KeyError if none."""
    return copy.deepcopy(_read(SHIPPED[url]))


def load_document(url: str, options: dict | None = None) -> dict:
    """pyld document loader: a shipped context document, or a JsonLdError for any other URL."""
    if url not in SHIPPED:
        raise JsonLdError(
            f"The JSON-LD document {url!r} is not one of the contexts shipped with lms; "
            "documents are never fetched.",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": shipped_document(url),
    }
