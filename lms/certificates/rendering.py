"""The certificate PDF: a Jinja template rendered from plain data, laid out by WeasyPrint.

* The template (``pdf/certificate.html``) is rendered in a sandboxed Jinja environment from a
  dict of strings, never from models: a template can reach nothing but what it is given.
* WeasyPrint fetches through ``AssetFetcher``: the files of the template's own folder (read
  once and kept: the stylesheet) and ``data:`` URLs (the QR code, the logo). ``file://``
  elsewhere, http(s) and everything else are refused; WeasyPrint logs the refusal and renders
  the page without that resource.
* One ``CertificateRenderer`` per process (``get_renderer``) keeps the parsed template, one
  ``FontConfiguration`` and the static assets. Per-learner data (the logo) never enters a cache:
  a cache keyed by it would grow with every certificate.
* PDF/A-3b, with the credential JSON attached (relationship ``Data``); metadata (title, author,
  subject, creation date) comes from the template's ``<title>`` and ``<meta>`` elements.
"""

import base64
import ctypes.util
import functools
import logging
import mimetypes
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import segno
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "pdf"
TEMPLATE = "certificate.html"
PDF_VARIANT = "pdf/a-3b"
ATTACHMENT_NAME = "credential.json"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class CertificateData:
    """What the PDF shows: plain values, copied from the certificate's snapshot."""

    code: str  # shown form, ABCD-EFGH-JKMN-PQRS
    verify_url: str
    learner_name: str
    course_title: str
    version_label: str
    content_hash: str
    organization_name: str
    completed_at: datetime
    issued_at: datetime
    sponsor_name: str | None = None
    logo: bytes | None = None  # PNG or JPEG, already validated and re-encoded on upload


class RefusedUrl(ValueError):
    """A resource the certificate template may not load."""


class AssetFetcher(URLFetcher):
    """Serves the template's own folder and ``data:`` URLs; refuses everything else."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=2)
        self.root = root.resolve()
        self._files: dict[Path, bytes] = {}
        self._lock = threading.Lock()

    def fetch(self, url, headers=None):
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    return URLFetcherResponse(
                        url,
                        self._read(path),
                        {"Content-Type": mimetypes.guess_type(path.name)[0] or "text/plain"},
                    )
        raise RefusedUrl(f"the certificate template may not load {url[:200]}")

    def _read(self, path: Path) -> bytes:
        # The folder's files are few and fixed: caching them cannot grow without bound.
        with self._lock:
            if path not in self._files:
                self._files[path] = path.read_bytes()
            return self._files[path]


def _date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _logo_data_uri(logo: bytes | None) -> str | None:
    if not logo:
        return None
    if logo.startswith(PNG_MAGIC):
        kind = "image/png"
    elif logo.startswith(JPEG_MAGIC):
        kind = "image/jpeg"
    else:
        log.warning("certificate logo skipped: neither PNG nor JPEG")
        return None
    return f"data:{kind};base64,{base64.b64encode(logo).decode('ascii')}"


def qr_svg(url: str) -> str:
    """The verification URL as an inline SVG QR code (scaled by the stylesheet)."""
    return segno.make(url, error="m", micro=False).svg_inline(border=4, omitsize=True)


def template_context(data: CertificateData) -> dict[str, str | None]:
    """The plain strings the template sees."""
    return {
        "title": f"Certificate: {data.learner_name}, {data.course_title}",
        "subject": (
            f"Certificate of completion of {data.course_title} (version {data.version_label}) "
            f"issued to {data.learner_name} by {data.organization_name}; "
            f"verification code {data.code}"
        ),
        "code": data.code,
        "verify_url": data.verify_url,
        "learner_name": data.learner_name,
        "course_title": data.course_title,
        "version_label": data.version_label,
        "content_hash_short": f"sha256:{data.content_hash[:16]}",
        "organization_name": data.organization_name,
        "sponsor_name": data.sponsor_name,
        "completed_on": _date(data.completed_at),
        "issued_on": _date(data.issued_at),
        "issued_at_iso": data.issued_at.astimezone(UTC).isoformat(timespec="seconds"),
        "logo_data_uri": _logo_data_uri(data.logo),
        "qr_svg": Markup(qr_svg(data.verify_url)),  # noqa: S704 (segno's own SVG)
    }


class CertificateRenderer:
    """Renders certificates; one per process, reused (see ``get_renderer``)."""

    def __init__(self, assets: Path = ASSETS, template: str = TEMPLATE):
        self.assets = assets.resolve()
        self.base_url = self.assets.as_uri() + "/"
        environment = SandboxedEnvironment(
            loader=FileSystemLoader(self.assets), autoescape=True, undefined=StrictUndefined
        )
        self.template = environment.get_template(template)
        self.fetcher = AssetFetcher(self.assets)
        self.font_config = FontConfiguration()
        # WeasyPrint's layout objects are not meant to be shared between threads at once.
        self._lock = threading.Lock()

    def html(self, data: CertificateData) -> str:
        return self.template.render(template_context(data))

    def render(self, data: CertificateData, credential_json: bytes) -> bytes:
        """The PDF/A-3b of one certificate, ``credential_json`` attached."""
        html = self.html(data)
        attachment = Attachment(
            string=credential_json,
            name=ATTACHMENT_NAME,
            description="Open Badges 3.0 credential (signed)",
            relationship="Data",
            created=data.issued_at.astimezone(UTC),
            modified=data.issued_at.astimezone(UTC),
            url_fetcher=self.fetcher,
        )
        with self._lock:
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
            return document.write_pdf(
                font_config=self.font_config,
                pdf_variant=PDF_VARIANT,
                attachments=[attachment],
            )


@functools.cache
def get_renderer() -> CertificateRenderer:
    """The process's renderer, made on first use."""
    return CertificateRenderer()


def render_certificate_pdf(data: CertificateData, credential_json: bytes) -> bytes:
    return get_renderer().render(data, credential_json)


def has_harfbuzz_subset() -> bool:
    """WeasyPrint subsets fonts with HarfBuzz when ``libharfbuzz-subset`` is installed; without
    it, it falls back to fontTools, several times slower per certificate."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


@functools.cache
def warn_without_harfbuzz_subset() -> bool:
    """Log once per process when HarfBuzz subsetting is missing. True when it is present."""
    present = has_harfbuzz_subset()
    if not present:
        log.warning(
            "libharfbuzz-subset is not installed: WeasyPrint falls back to fontTools and "
            "renders certificates several times slower. Install Debian's libharfbuzz-subset0 "
            "(scripts/install-system-deps.sh run)."
        )
    return present
