"""The PDF itself, checked with the tools anyone would use: poppler (pdftotext, pdfinfo,
pdftoppm, pdfdetach), zbarimg for the QR code and pikepdf for PDF/A. No database needed."""

import http.server
import json
import logging
import re
import subprocess
import threading
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest

from lms.certificates import rendering
from lms.certificates.rendering import ASSETS, CertificateData, CertificateRenderer
from tests.courses.builders import PNG

VERIFY_URL = "http://lms.test/verify/ABCD-EFGH-JKMN-PQRT"
NAMES = ["Łukasz Żółć", "Øystein Ødegård", "Nguyễn Thị Thảo", "王小明", "محمد عبد الله"]
CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Test"], "n": "ễ"}
# Bidirectional controls pdftotext puts around right-to-left runs.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def data(**changes) -> CertificateData:
    values = {
        "code": "ABCD-EFGH-JKMN-PQRT",
        "verify_url": VERIFY_URL,
        "learner_name": "Ada Lovelace",
        "course_title": "Open Source Foundations",
        "version_label": "2026.1",
        "content_hash": "c0ffee" * 10 + "abcd",
        "organization_name": "Example University OSPO",
        "completed_at": datetime(2026, 3, 14, 10, 0, tzinfo=UTC),
        "issued_at": datetime(2026, 3, 14, 10, 5, tzinfo=UTC),
    }
    return CertificateData(**{**values, **changes})


def credential_bytes() -> bytes:
    return json.dumps(CREDENTIAL, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def renderer():
    return CertificateRenderer()


@pytest.fixture(scope="module")
def pdf_file(renderer, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "certificate.pdf"
    path.write_bytes(renderer.render(data(), credential_bytes()))
    return path


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def text_of(path: Path) -> str:
    return BIDI_CONTROLS.sub("", run("pdftotext", "-enc", "UTF-8", str(path), "-"))


def test_the_text_has_the_name_course_version_and_code(pdf_file):
    text = text_of(pdf_file)
    for expected in ("Ada Lovelace", "Open Source Foundations", "2026.1", "ABCD-EFGH-JKMN-PQRT"):
        assert expected in text
    assert "Example University OSPO" in text and "14 March 2026" in text


def test_one_a4_landscape_page_with_metadata(pdf_file):
    info = dict(
        line.split(":", 1) for line in run("pdfinfo", str(pdf_file)).splitlines() if ":" in line
    )
    info = {key.strip(): value.strip() for key, value in info.items()}
    assert info["Pages"] == "1"
    width, _, height = info["Page size"].split()[:3]
    assert (round(float(width)), round(float(height))) == (842, 595)  # A4, landscape
    assert info["Title"] == "Certificate: Ada Lovelace, Open Source Foundations"
    assert info["Author"] == "Example University OSPO"
    assert "ABCD-EFGH-JKMN-PQRT" in info["Subject"]
    assert info["CreationDate"].startswith("Sat Mar 14 10:05:00 2026")


def test_the_qr_code_opens_the_verification_page(pdf_file, tmp_path):
    run("pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf_file), str(tmp_path / "page"))
    decoded = run("zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")).strip()
    assert decoded == VERIFY_URL


def test_the_credential_is_attached_as_data(pdf_file, tmp_path):
    assert "credential.json" in run("pdfdetach", "-list", str(pdf_file))
    out = tmp_path / "extracted.json"
    run("pdfdetach", "-save", "1", "-o", str(out), str(pdf_file))
    assert json.loads(out.read_bytes()) == CREDENTIAL
    with pikepdf.open(pdf_file) as pdf:
        # WeasyPrint lists the one file specification twice in /AF; both name the same file.
        specs = list(pdf.Root.AF)
        assert specs and {(str(s.UF), str(s.AFRelationship)) for s in specs} == {
            ("credential.json", "/Data")
        }


def test_it_is_pdf_a_3b_with_an_output_intent(pdf_file):
    with pikepdf.open(pdf_file) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and "/DestOutputProfile" in intent


@pytest.mark.parametrize("name", NAMES)
def test_names_in_any_script_render_with_real_glyphs(renderer, tmp_path, name):
    path = tmp_path / "c.pdf"
    path.write_bytes(renderer.render(data(learner_name=name), credential_bytes()))
    text = text_of(path)
    if name.startswith("محمد"):
        # Arabic comes out in visual order from some poppler versions: compare the letters.
        assert (
            sorted(name.replace(" ", ""))
            == sorted(next(line for line in text.splitlines() if "م" in line).replace(" ", ""))
            or name in text
        )
    else:
        assert name in text
    fonts = run("pdffonts", str(path))
    assert "Type 3" not in fonts  # real embedded fonts, no fallback bitmaps


def test_the_logo_is_drawn_when_given_and_refused_when_not_png_or_jpeg(renderer, tmp_path):
    with_logo = renderer.render(data(logo=PNG), credential_bytes())
    with pikepdf.open(BytesIO(with_logo)) as pdf:
        assert len(list(pdf.pages[0].get_images())) == 1
    bogus = renderer.render(data(logo=b"GIF89a" + b"\0" * 20), credential_bytes())
    with pikepdf.open(BytesIO(bogus)) as pdf:
        assert len(list(pdf.pages[0].get_images())) == 0


def test_searchable_text_has_no_letter_spacing_and_no_flexbox():
    css = (ASSETS / "certificate.css").read_text()
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "letter-spacing" not in rules
    assert "flex" not in rules and "grid" not in rules


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def hostile_assets(folder: Path, server: str) -> Path:
    """The real template and stylesheet, plus references to a local file and a local server."""
    folder.mkdir()
    html = (ASSETS / "certificate.html").read_text()
    html = html.replace(
        "</head>",
        f'<link rel="stylesheet" href="{server}/steal.css">'
        '<link rel="attachment" href="file:///etc/passwd">'
        "</head>",
    ).replace(
        "<body>",
        '<body><img src="file:///etc/passwd"><img src="../../../../etc/hostname">'
        f'<img src="{server}/pixel.png"><iframe src="file:///etc/passwd"></iframe>',
    )
    (folder / "certificate.html").write_text(html)
    css = (ASSETS / "certificate.css").read_text()
    css = f'@import url("file:///etc/passwd");\n@import url("{server}/more.css");\n' + css
    css += f'\n.frame {{ background: url("{server}/bg.png") }}\n'
    (folder / "certificate.css").write_text(css)
    return folder


def test_a_template_or_asset_cannot_reach_files_or_the_network(tmp_path, local_server, caplog):
    renderer = CertificateRenderer(assets=hostile_assets(tmp_path / "assets", local_server))
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = renderer.render(data(), credential_bytes())
    assert Recorder.hits == []  # nothing ever asked the server
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    assert "Ada Lovelace" in text_of(path)  # rendered without the refused resources
    assert "root:" not in text_of(path)
    assert "credential.json" in run("pdfdetach", "-list", str(path))
    assert "passwd" not in run("pdfdetach", "-list", str(path))
    assert "may not load file:///etc/passwd" in caplog.text
    assert f"may not load {local_server}" in caplog.text


def test_the_fetcher_serves_only_the_template_folder(tmp_path):
    fetcher = rendering.AssetFetcher(ASSETS)
    assert b"@page" in fetcher.fetch((ASSETS / "certificate.css").as_uri()).read()
    outside = tmp_path / "secret.css"
    outside.write_text("x")
    for url in (
        outside.as_uri(),
        (ASSETS / ".." / "services.py").as_uri(),
        "file:///etc/passwd",
        "file://otherhost" + (ASSETS / "certificate.css").as_posix(),
        "http://127.0.0.1:9/x.css",
        "https://example.org/x.css",
        "ftp://example.org/x",
    ):
        with pytest.raises(rendering.RefusedUrl):
            fetcher.fetch(url)


def test_the_renderer_keeps_one_font_configuration_and_caches_only_its_assets(renderer):
    fonts = renderer.font_config
    for logo in (PNG, PNG + b"1", PNG + b"2"):
        renderer.render(data(logo=logo), credential_bytes())
    assert renderer.font_config is fonts
    # Only the folder's own files are kept; per-learner logos never are.
    assert set(renderer.fetcher._files) <= set(ASSETS.iterdir())


def test_a_missing_harfbuzz_subset_is_a_warning_at_start(monkeypatch, caplog):
    rendering.warn_without_harfbuzz_subset.cache_clear()
    monkeypatch.setattr(rendering.ctypes.util, "find_library", lambda name: None)
    try:
        with caplog.at_level(logging.WARNING, logger="lms.certificates.rendering"):
            assert rendering.warn_without_harfbuzz_subset() is False
        assert "libharfbuzz-subset0" in caplog.text
    finally:
        rendering.warn_without_harfbuzz_subset.cache_clear()


def test_harfbuzz_subset_is_installed_here():
    assert rendering.has_harfbuzz_subset()
