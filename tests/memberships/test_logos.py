"""Organization logos (issue 11, item 2): who may upload one, what is accepted, how it is
re-encoded, and that every refused file is a 422 that stores nothing, on both databases."""

import struct
import zlib
from io import BytesIO

import pytest
import sqlalchemy as sa
from PIL import Image, ImageFile

from lms.core.errors import RuleViolation
from lms.memberships import logos
from lms.memberships.models import OrganizationLogo
from tests.accounts.test_api import assert_error_shape
from tests.accounts.test_views import csrf_from
from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory

URL = "/api/v1/organizations/ospo/logo"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png(width=800, height=400, color="navy", mode="RGB", **options) -> bytes:
    return encode(Image.new(mode, (width, height), color), "PNG", **options)


def jpeg_with_exif(width=300, height=200) -> bytes:
    image = Image.new("RGB", (width, height), "red")
    image.paste((0, 0, 255), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x010F] = "SecretCam"  # Make
    exif[0x9286] = "where I live"  # UserComment (in the IFD, good enough to find in bytes)
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width`` × ``height`` pixels (an image bomb: the
    data would inflate to gigabytes if anyone decoded it)."""
    data = bytearray(png(1, 1))
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def put(client, data: bytes, name="logo.png", url=URL):
    return client.put(url, data={"file": (BytesIO(data), name)}, content_type="multipart/form-data")


def stored(db, organization):
    db.session.expire_all()
    return db.session.get(OrganizationLogo, organization.id)


# -- re-encoding (no HTTP) --------------------------------------------------------------


def test_a_logo_is_shrunk_to_fit_the_box_and_stored_as_png():
    logo = logos.reencode_logo(png(2000, 500), max_side=4096, box=600)
    assert (logo.width, logo.height) == (600, 150)
    with Image.open(BytesIO(logo.png)) as image:
        assert image.format == "PNG" and image.size == (600, 150)
        assert image.getpixel((300, 75)) == (0, 0, 128)
    small = logos.reencode_logo(png(40, 30), max_side=4096, box=600)
    assert (small.width, small.height) == (40, 30)  # never enlarged


def test_exif_and_metadata_are_dropped_and_the_orientation_applied():
    original = jpeg_with_exif()
    assert b"SecretCam" in original
    logo = logos.reencode_logo(original, max_side=4096, box=600)
    assert b"SecretCam" not in logo.png and b"where I live" not in logo.png
    with Image.open(BytesIO(logo.png)) as image:
        assert image.format == "PNG"
        assert "exif" not in image.info and not image.getexif()
        # Turned upright: 300 × 200 with orientation 6 is 200 × 300, the blue half on top.
        assert image.size == (200, 300)
        top = image.getpixel((100, 20))
        assert top[2] > 200 and top[0] < 60
    # A PNG's text chunks, colour profile and trailing bytes are gone too.
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    with_text = png(50, 50, pnginfo=info, icc_profile=b"not really a profile") + b"TRAILER"
    logo = logos.reencode_logo(with_text, max_side=4096, box=600)
    assert b"Jane Secret" not in logo.png and b"TRAILER" not in logo.png
    with Image.open(BytesIO(logo.png)) as image:
        assert set(image.info) <= {"dpi", "gamma"}  # nothing the upload carried
        assert "icc_profile" not in image.info


def test_transparency_and_unusual_modes_survive_as_rgb_or_rgba():
    cases = {
        "RGBA": png(20, 20, (10, 20, 30, 0), mode="RGBA"),
        "LA": png(20, 20, (10, 200), mode="LA"),
        "P": encode(Image.new("P", (20, 20)), "PNG", transparency=0),
        "I;16": png(20, 20, 40000, mode="I;16"),
        "1": png(20, 20, 1, mode="1"),
        "CMYK": encode(Image.new("CMYK", (20, 20)), "JPEG"),
    }
    for mode, data in cases.items():
        logo = logos.reencode_logo(data, max_side=4096, box=600)
        with Image.open(BytesIO(logo.png)) as image:
            assert image.mode in ("RGB", "RGBA"), mode
    with Image.open(BytesIO(logos.reencode_logo(cases["RGBA"], max_side=99, box=9).png)) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0


# -- the API ----------------------------------------------------------------------------


def test_an_ospo_admin_uploads_the_logo_and_the_page_serves_it(client, db, org, org_admin):
    log_in(client, org_admin)
    response = put(client, png(1200, 300))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["organization"] == "ospo" and body["url"] == "/organizations/ospo/logo.png"
    assert (body["width"], body["height"]) == (600, 150)
    row = stored(db, org)
    assert row.uploaded_by_id == org_admin.id and body["size"] == len(row.png)
    assert body["sha256"] == row.sha256

    page = client.get("/organizations/ospo/logo.png")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "image/png"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "private, max-age=300"
    assert page.data == row.png
    again = client.get(
        "/organizations/ospo/logo.png", headers={"If-None-Match": page.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""

    # A new upload replaces it.
    assert put(client, png(100, 100, "green")).status_code == 200
    assert stored(db, org).width == 100
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrganizationLogo)) == 1


def test_a_platform_admin_uploads_a_jpeg_and_deletes_the_logo(client, db, org, admin):
    log_in(client, admin)
    response = put(client, jpeg_with_exif(), name="photo.jpg")
    assert response.status_code == 200, response.json
    assert (response.json["width"], response.json["height"]) == (200, 300)
    assert stored(db, org) is not None
    assert client.delete(URL).status_code == 204
    assert stored(db, org) is None
    assert client.delete(URL).status_code == 204  # gone stays gone
    assert client.get("/organizations/ospo/logo.png").status_code == 404


GIF = encode(Image.new("RGB", (10, 10), "red"), "GIF")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>x</script></svg>'
WEBP_OR_BMP = encode(Image.new("RGB", (10, 10), "red"), "BMP")
TRUNCATED_PNG = png(300, 300, "navy", mode="RGB", compress_level=0)[:3000]
TRUNCATED_JPEG = encode(Image.effect_noise((300, 300), 50).convert("RGB"), "JPEG")[:3000]

BAD_LOGOS = {
    "text": (b"hello, I am not an image", "PNG or JPEG"),
    "empty": (b"", "empty"),
    "gif": (GIF, "PNG or JPEG"),
    "svg": (SVG, "PNG or JPEG"),
    "bmp": (WEBP_OR_BMP, "PNG or JPEG"),
    "png signature only": (b"\x89PNG\r\n\x1a\n", "PNG or JPEG"),
    "truncated png": (TRUNCATED_PNG, "damaged"),
    "truncated jpeg": (TRUNCATED_JPEG, "damaged"),
    "image bomb": (png_declaring(100_000, 100_000), "4096 × 4096"),
    "wider than allowed": (png_declaring(5000, 10), "4096 × 4096"),
    "over the byte limit": (png(10, 10) + b"\0" * 4096, "at most 4 KB"),
}


@pytest.mark.parametrize("case", list(BAD_LOGOS))
def test_a_bad_logo_is_a_422_and_nothing_is_stored(
    app, client, db, org, org_admin, case, monkeypatch
):
    # A small limit keeps the upload in memory (Werkzeug spools larger ones to a file).
    monkeypatch.setitem(app.config, "ORGANIZATION_LOGO_MAX_BYTES", 4096)
    data, says = BAD_LOGOS[case]
    log_in(client, org_admin)
    body = assert_error_shape(put(client, data), 422)
    assert says in body["message"] and body["errors"]["file"] == [body["message"]]
    assert stored(db, org) is None

    # Nor does it replace a logo already there.
    assert put(client, png(50, 50)).status_code == 200
    before = stored(db, org).png
    assert_error_shape(put(client, data), 422)
    assert stored(db, org).png == before


def test_the_upload_needs_a_file(client, org, org_admin):
    log_in(client, org_admin)
    body = assert_error_shape(client.put(URL, data={}, content_type="multipart/form-data"), 422)
    assert body["errors"] == {"file": ["Missing data for required field."]}


def test_only_the_organization_s_admins_and_platform_admins_may_upload(client, db, org, learner):
    assert_error_shape(put(client, png(10, 10)), 401)

    log_in(client, learner)
    assert_error_shape(put(client, png(10, 10)), 403)
    assert_error_shape(client.delete(URL), 403)

    other_admin = MemberFactory(organization=OrganizationFactory(), role="admin").user
    log_in(client, other_admin)
    assert_error_shape(put(client, png(10, 10)), 404)
    assert_error_shape(client.delete(URL), 404)
    assert stored(db, org) is None


def test_the_logo_page_is_for_the_organization_s_members(client, db, org, org_admin, learner):
    log_in(client, org_admin)
    assert put(client, png(10, 10)).status_code == 200
    log_in(client, learner)
    assert client.get("/organizations/ospo/logo.png").status_code == 200
    log_in(client, MemberFactory(organization=OrganizationFactory(), role="admin").user)
    assert client.get("/organizations/ospo/logo.png").status_code == 404


# -- the dashboard form -----------------------------------------------------------------


def test_the_dashboard_form_uploads_and_removes_the_logo(client, db, org, org_admin):
    log_in(client, org_admin)
    client.csrf_token = None  # the page sends the form's token, as a browser does
    page = client.get("/organizations/ospo")
    html = page.get_data(as_text=True)
    assert "Logo on certificates" in html and "No logo yet" in html
    token = csrf_from(page)

    refused = client.post(
        "/organizations/ospo/logo",
        data={"csrf_token": token, "file": (BytesIO(GIF), "logo.gif")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "The logo must be a PNG or JPEG image." in refused.get_data(as_text=True)
    assert stored(db, org) is None

    saved = client.post(
        "/organizations/ospo/logo",
        data={"csrf_token": token, "file": (BytesIO(png(900, 900)), "logo.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    assert stored(db, org).width == 600
    html = client.get("/organizations/ospo").get_data(as_text=True)
    assert 'src="/organizations/ospo/logo.png"' in html and "Remove the logo" in html

    removed = client.post("/organizations/ospo/logo/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert stored(db, org) is None


def test_a_learner_cannot_use_the_logo_form(client, db, org, learner):
    log_in(client, learner)  # the client sends the session's CSRF token in its header
    response = client.post(
        "/organizations/ospo/logo",
        data={"file": (BytesIO(png(10, 10)), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert stored(db, org) is None


def test_a_truncated_file_is_refused_even_where_pillow_is_told_to_load_it(monkeypatch):
    # WeasyPrint turns this on for the whole process when it is imported.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for data in (TRUNCATED_PNG, TRUNCATED_JPEG):
        with pytest.raises(RuleViolation, match="damaged or incomplete"):
            logos.reencode_logo(data, max_side=4096, box=600)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # and it is left as it was


def test_the_default_limits_are_1_mb_and_4096_pixels_a_side(app):
    assert app.config["ORGANIZATION_LOGO_MAX_BYTES"] == 1024 * 1024
    assert app.config["ORGANIZATION_LOGO_MAX_SIDE"] == 4096
    assert logos._size_text(1024 * 1024) == "1 MB"
