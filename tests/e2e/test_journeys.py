"""Each role's journey in Chromium, from its first page to its last, with axe-core on every page
on the way."""

import csv
import io
import re
from datetime import date, timedelta

import pytest

from tests.courses.builders import make_course, zip_folder
from tests.e2e import data
from tests.e2e.harness import audit, log_in, watch

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def answer_quiz(page, right: bool) -> None:
    """The tiny course's quiz (tests.courses.builders): q1 single (MIT), q2 multiple."""
    license_question = page.get_by_role("group", name="Which is a license?")
    license_question.get_by_label("MIT" if right else "README").check()
    files = page.get_by_role("group", name="Which are files?")
    files.get_by_label("README").check()
    files.get_by_label("LICENSE").check()
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_load_state()


def test_learner_from_invitation_email_to_a_verified_certificate(
    page, server, smtp, new_context, tmp_path
):
    email = "newcomer@example.org"
    sent = len(smtp.messages)
    data.organization_with_invitation(server.app, tmp_path, "e2e-lab", email)
    assert smtp.wait_for(sent + 1) == sent + 1
    invitation = smtp.messages[-1]
    assert invitation["To"] == email
    link = data.link_in(invitation, "/invitations/")
    assert link.startswith(server.url)

    # Accept the invitation: choose a name and a password.
    page.goto(link)
    audit(page)
    page.get_by_label("Your name").fill("Nia Newcomer")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Accept invitation").click()
    page.wait_for_load_state()
    audit(page)

    # Enroll from the course page; the first lesson opens.
    page.goto(f"{server.url}/courses/tiny-course")
    audit(page)
    page.get_by_role("button", name=re.compile("Enroll")).click()
    page.wait_for_load_state()
    assert "/learn/" in page.url
    audit(page)
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_load_state()

    wrong_answer_seen = completed = False
    for _ in range(8):
        # Resume from the dashboard each time.
        page.goto(f"{server.url}/dashboard")
        audit(page)
        resume = page.get_by_role("link", name=re.compile("^Resume:"))
        if resume.count() == 0:
            break
        resume.first.click()
        page.wait_for_load_state()
        audit(page)
        if page.get_by_role("button", name="Submit answers").count():
            if not wrong_answer_seen:
                answer_quiz(page, right=False)
                assert page.get_by_text("Not passed yet").is_visible()
                assert page.get_by_text("Not quite.").first.is_visible()
                audit(page)
                wrong_answer_seen = True
            answer_quiz(page, right=True)
            assert page.get_by_text("Passed").first.is_visible()
            audit(page)
        else:
            page.get_by_role("button", name="Mark as complete").click()
            page.wait_for_load_state()
        completed = completed or page.get_by_text("You completed the course").count() > 0
    assert wrong_answer_seen
    assert completed

    # The certificate: the PDF, then the verification link opened by anyone.
    page.goto(f"{server.url}/certificates")
    audit(page)
    pdf_url = page.get_by_role("link", name=re.compile("Download the PDF")).first.get_attribute(
        "href"
    )
    pdf = page.request.get(server.url + pdf_url if pdf_url.startswith("/") else pdf_url)
    assert pdf.ok
    assert pdf.body().startswith(b"%PDF")
    verify_link = page.get_by_role("link", name=re.compile("Verification page")).first
    verification_url = verify_link.evaluate("a => a.href")
    assert "/verify/" in verification_url

    anonymous = watch(new_context().new_page(), server.url)
    anonymous.goto(verification_url)
    audit(anonymous)
    assert anonymous.get_by_text("Valid.").is_visible()
    assert anonymous.get_by_text("Nia Newcomer").is_visible()


def test_ospo_admin_invites_from_a_csv_and_exports_the_report(page, server, smtp):
    log_in(page, server.url, "ospo@example.org")
    page.goto(f"{server.url}/organizations/demo-university")
    audit(page)
    sent = len(smtp.messages)
    rows = "email,name,role\nrosa.lab@example.org,Rosa Lab,learner\nnot-an-email,Bad Row,learner\n"
    rows += "tom.lab@example.org,Tom Lab,learner\n"
    section = page.get_by_role("region", name=re.compile("CSV"))
    section.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "researchers.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    section.get_by_label("Preview only").uncheck()
    section.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    audit(page)
    result = page.locator("#csv-result")
    assert re.search(r"2 invited.*1 rejected", result.inner_text())
    bad = section.get_by_role("row", name=re.compile("not-an-email"))
    assert "rejected" in bad.inner_text()
    assert "created" in section.get_by_role("row", name=re.compile("rosa.lab")).inner_text()
    assert smtp.wait_for(sent + 2) == sent + 2

    # The report, filtered to those who completed, then exported.
    page.goto(f"{server.url}/organizations/demo-university/report")
    audit(page)
    page.get_by_label("Status").select_option("completed")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    audit(page)
    assert "status=completed" in page.url
    learners = page.get_by_role("region", name=re.compile("^Learners"))
    assert learners.get_by_role("cell", name="Ben Lab").count() >= 1
    assert learners.get_by_role("cell", name="Ana Research").count() == 0
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = download.path().read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    header = [column.lower() for column in table[0]]
    assert "email" in header
    assert any("status" in column or "completed" in column for column in header)
    assert len(table) >= 2
    assert all("ana.research@example.org" not in row for row in table[1:])


def test_sponsor_admin_without_stripe_keys(page, server):
    log_in(page, server.url, "sponsor@example.org")
    page.goto(f"{server.url}/sponsors")
    audit(page)
    page.get_by_role("link", name="Open Research Foundation").first.click()
    page.wait_for_load_state()
    audit(page)
    assert page.get_by_text(re.compile("Billing is not configured", re.I)).is_visible()
    assert page.get_by_role("button", name=re.compile("payment|checkout", re.I)).count() == 0
    page.get_by_role("link", name=re.compile("Impact", re.I)).first.click()
    page.wait_for_load_state()
    audit(page)
    assert "/impact" in page.url
    assert page.locator("h1").inner_text()
    assert page.get_by_text("Demo University").first.is_visible()


def test_platform_admin_creates_an_organization_and_records_a_grant(page, server):
    log_in(page, server.url, "admin@example.org")
    page.goto(f"{server.url}/organizations")
    audit(page)
    page.get_by_label("Name", exact=True).fill("Northern Institute OSPO")
    page.get_by_label("Short name").fill("northern-institute")
    page.get_by_label("Country").fill("FI")
    page.get_by_role("button", name="Create").click()
    page.wait_for_load_state()
    audit(page)
    assert page.get_by_role("heading", name="Northern Institute OSPO").first.is_visible()

    page.goto(f"{server.url}/organizations/northern-institute/seat-grants")
    audit(page)
    today = date.today()
    page.get_by_label("Seats").fill("12")
    page.get_by_label("Starts on").fill(today.isoformat())
    page.get_by_label("Ends on").fill((today + timedelta(days=365)).isoformat())
    page.get_by_label("Note").fill("Invoice E2E-7")
    page.get_by_role("button", name="Record grant").click()
    page.wait_for_load_state()
    audit(page)
    assert page.get_by_role("cell", name="Invoice E2E-7").first.is_visible()
    assert page.get_by_text(re.compile(r"12 seats now")).is_visible()


def test_platform_admin_imports_publishes_a_course_and_revokes_a_certificate(
    page, server, new_context, tmp_path
):
    """From the platform admin's pages: Admin -> Courses (import an archive, publish it),
    Admin -> Certificates (the verification page, where admins revoke with a reason)."""
    log_in(page, server.url, "admin@example.org")
    page.goto(f"{server.url}/admin")
    audit(page)
    page.get_by_role("link", name="Courses", exact=True).last.click()
    page.wait_for_load_state()
    audit(page)
    archive = zip_folder(make_course(tmp_path, slug="imported-in-browser"))
    page.get_by_label("Course archive").set_input_files(
        files=[{"name": "course.zip", "mimeType": "application/zip", "buffer": archive}]
    )
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_load_state()
    audit(page)
    row = page.get_by_role("row", name=re.compile("imported-in-browser"))
    assert "No (draft)" in row.inner_text()
    row.get_by_role("button", name=re.compile("^Publish")).click()
    page.wait_for_load_state()
    assert (
        "No (draft)"
        not in page.get_by_role("row", name=re.compile("imported-in-browser")).inner_text()
    )
    page.goto(f"{server.url}/courses")
    assert page.get_by_role("link", name="A Tiny Course").first.is_visible()

    code = data.certificate_code(server.app, "ben.lab@example.org")
    page.goto(f"{server.url}/verify/{code}")
    revoke = page.get_by_role("region", name="Revoke this certificate")
    revoke.get_by_label(re.compile("reason", re.I)).fill("Issued by mistake")
    revoke.get_by_role("button", name=re.compile("revoke", re.I)).click()
    page.wait_for_load_state()
    audit(page)

    anonymous = watch(new_context().new_page(), server.url)
    anonymous.goto(f"{server.url}/verify/{code}")
    audit(anonymous)
    assert anonymous.get_by_text("Revoked").first.is_visible()
