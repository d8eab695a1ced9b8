"""The links to an enrollment's certificate: its PDF, its verification page and LinkedIn's
"Add to profile" form.

The certificates package builds them (it owns those routes) and plugs its builder in here when
the app starts (``lms.certificates.wiring``); progress may not import it. Progress knows only
the code it keeps on the enrollment (``Enrollment.certificate_code``), so showing the links
costs no query.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CertificateLinks:
    code: str  # as people read it: ABCD-EFGH-JKMN-PQRS
    pdf_url: str
    verify_url: str
    linkedin_url: str


def _no_certificates(code: str) -> CertificateLinks | None:
    return None


# Replaced by the certificates package's builder when the app starts.
links_for: Callable[[str], CertificateLinks | None] = _no_certificates


def certificate_links(code: str | None) -> CertificateLinks | None:
    """The links of the certificate with this code, or None without one."""
    return links_for(code) if code else None
