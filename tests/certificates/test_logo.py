"""The organization's uploaded logo on its certificates (issue 11, item 2): drawn in the PDF of
every certificate rendered after the upload, by the outbox and by the bulk renderer, each in
its own session; PDFs rendered before stay as they were. On both databases."""

import subprocess
from io import BytesIO

import sqlalchemy as sa
from PIL import Image

from lms.certificates import codes
from lms.certificates.models import Certificate
from tests.certificates.conftest import complete_course
from tests.conftest import log_in


def pdf_images(pdf: bytes, tmp_path) -> list[list[str]]:
    """``pdfimages -list``: one row per image (type, width, height, ...)."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]  # after the two header lines
    return [row for row in rows if row and row[2] == "image"]


def download(client, certificate_code: str) -> bytes:
    response = client.get(f"/api/v1/certificates/{codes.display(certificate_code)}.pdf")
    assert response.status_code == 200
    return response.data


def upload_logo(client, admin, width=1200, height=400) -> None:
    image = Image.new("RGB", (width, height), "navy")
    data = BytesIO()
    image.save(data, format="JPEG")
    log_in(client, admin)
    response = client.put(
        "/api/v1/organizations/ospo/logo",
        data={"file": (BytesIO(data.getvalue()), "logo.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json


def test_the_next_certificate_of_the_organization_shows_its_logo(
    client, db, course, learner, org_admin, tmp_path
):
    upload_logo(client, org_admin)
    log_in(client, learner)
    enrollment_id = complete_course(client)  # rendered by the in-process outbox drain
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.enrollment_id == enrollment_id)
    )
    assert certificate.pdf_rendered_at is not None  # not rendered on download
    (image,) = pdf_images(download(client, certificate.code), tmp_path)
    width, height = int(image[3]), int(image[4])
    assert (width, height) == (600, 200)  # the re-encoded logo, not the upload


def test_a_pdf_rendered_before_the_upload_keeps_none_and_the_bulk_render_adds_it(
    client, db, certificate, learner, org_admin, runner, tmp_path
):
    assert pdf_images(download(client, certificate.code), tmp_path) == []
    upload_logo(client, org_admin)
    log_in(client, learner)
    assert pdf_images(download(client, certificate.code), tmp_path) == []

    result = runner.invoke(args=["lms", "certificates", "render", "--all"])
    assert result.exit_code == 0, result.output
    assert len(pdf_images(download(client, certificate.code), tmp_path)) == 1


def test_a_removed_logo_is_gone_from_the_next_render(
    client, db, course, learner, org_admin, tmp_path
):
    upload_logo(client, org_admin)
    assert client.delete("/api/v1/organizations/ospo/logo").status_code == 204
    log_in(client, learner)
    enrollment_id = complete_course(client)
    code = db.session.scalar(
        sa.select(Certificate.code).where(Certificate.enrollment_id == enrollment_id)
    )
    assert pdf_images(download(client, code), tmp_path) == []
