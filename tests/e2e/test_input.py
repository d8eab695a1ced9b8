"""Keyboard-only use, and bad input in the browser: invalid forms, double clicks, an expired
session, a stale CSRF token."""

import re

import pytest

from tests.e2e import data
from tests.e2e.harness import DEMO_PASSWORD, audit, log_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || "").trim(),
          label: e.labels && e.labels[0] ? e.labels[0].innerText.trim() : "",
          visible: e.matches(":focus-visible") && ring};
}"""


def tab_to(page, wanted, limit: int = 60) -> dict:
    """Presses Tab until the focused element is the wanted one; each stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] != "body":
            assert focused["visible"], f"no visible focus on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the element after {limit} presses")


def test_keyboard_only_login_and_mark_a_lesson_complete(page, server):
    email = "ana.research@example.org"
    page.goto(f"{server.url}/login")
    tab_to(page, lambda f: f["label"] == "Email")
    page.keyboard.type(email)
    tab_to(page, lambda f: f["label"] == "Password")
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url

    page.goto(f"{server.url}/dashboard")  # the landing page depends on the role navigation
    tab_to(page, lambda f: f["tag"] == "a" and f["text"].startswith("Resume:"))

    enrollment_id, slug = data.first_open_lesson(server.app, email, "open-source-foundations")
    lesson_url = f"{server.url}/learn/{enrollment_id}/{slug}"
    page.goto(lesson_url)
    audit(page)
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Mark as complete")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(lesson_url)  # the app moves on to the next lesson: back to the one just done
    assert page.get_by_text("Completed on").is_visible()


def test_an_invalid_form_shows_each_message_beside_its_field_and_keeps_the_input(page, server):
    page.goto(f"{server.url}/register")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Name").fill("Kim Lee")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    audit(page)
    email = page.get_by_label("Email")
    assert email.input_value() == "not-an-email"
    assert page.get_by_label("Name").input_value() == "Kim Lee"
    assert page.get_by_label("Password").input_value() == ""
    for field in (email, page.get_by_label("Password")):
        assert field.get_attribute("aria-invalid") == "true"
        described = field.get_attribute("aria-describedby").split()
        messages = [page.locator(f"#{i}") for i in described]
        errors = [m for m in messages if "error" in (m.get_attribute("class") or "")]
        assert errors and errors[0].is_visible() and errors[0].inner_text().strip()


def test_an_empty_organization_form_keeps_what_was_typed(page, server):
    log_in(page, server.url, "admin@example.org")
    page.goto(f"{server.url}/organizations")
    page.get_by_label("Name", exact=True).fill("Half Filled Institute")
    page.get_by_label("Contact email").fill("nobody-at-all")
    page.get_by_role("button", name="Create").click()
    page.wait_for_load_state()
    audit(page)
    assert page.get_by_label("Name", exact=True).input_value() == "Half Filled Institute"
    assert page.get_by_label("Contact email").input_value() == "nobody-at-all"
    for label in ("Short name", "Contact email"):
        field = page.get_by_label(label)
        assert field.get_attribute("aria-invalid") == "true", label
        error = page.locator("#" + field.get_attribute("aria-describedby").split()[-1])
        assert error.is_visible() and error.inner_text().strip(), label


def _open_lesson(page, server, email, course, quiz=False) -> int:
    log_in(page, server.url, email)
    enrollment_id, slug = data.first_open_lesson(server.app, email, course, quiz)
    page.goto(f"{server.url}/learn/{enrollment_id}/{slug}")
    return enrollment_id


def _double_click(page, button) -> list[str]:
    """Clicks the button twice, as an impatient person does (the second click while the first
    submission is on its way); the POST requests the page sent."""
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # A slow network (Chromium's own throttling: every answer takes 400 ms) makes sure the
    # second click, 100 ms after the first, lands on the page that is still shown.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    box = page.get_by_role("button", name=button).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(100)
    page.mouse.click(x, y)
    page.wait_for_timeout(1500)  # both answers are in
    page.wait_for_load_state()
    return posts


def test_a_double_click_on_mark_as_complete_records_once(page, server):
    course = "responsible-genai-research-software"
    enrollment_id = _open_lesson(page, server, "chen.data@example.org", course)
    before = data.progress_rows(server.app, enrollment_id)
    _double_click(page, "Mark as complete")  # two requests today: marking is idempotent
    after = data.progress_rows(server.app, enrollment_id)
    completed = [row for row in after if row not in before and row[1] == "completed"]
    assert len(completed) == 1, completed
    assert len({lesson for lesson, _ in after}) == len(after)  # one row per lesson
    assert page.get_by_text("Completed on").count() or "/learn/" in page.url


def test_a_double_click_on_submit_answers_records_one_attempt(page, server):
    course = "open-source-foundations"
    enrollment_id = _open_lesson(page, server, "learner@example.org", course, quiz=True)
    before = data.count_attempts(server.app, enrollment_id)
    for group in page.get_by_role("group").all():
        group.locator("input").first.check()
    posts = _double_click(page, "Submit answers")
    assert data.count_attempts(server.app, enrollment_id) == before + 1
    assert len(posts) == 1, posts


def test_an_expired_session_goes_to_login_and_back(page, server):
    log_in(page, server.url, "ben.lab@example.org")
    page.goto(f"{server.url}/certificates")
    assert page.get_by_role("heading", name="My certificates").is_visible()
    page.context.clear_cookies()
    page.reload()
    assert "/login" in page.url
    audit(page)
    page.get_by_label("Email").fill("ben.lab@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.url == f"{server.url}/certificates"


def test_a_stale_csrf_token_gets_a_page_to_retry(page, server):
    log_in(page, server.url, "ana.research@example.org")
    page.goto(f"{server.url}/account")
    page.evaluate(
        """() => document.querySelectorAll("input[name=csrf_token]")
                   .forEach(i => { i.value = "stale-" + i.value.slice(6); })"""
    )
    page.get_by_label("Your name").fill("Ana Overnight")
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        page.get_by_role("button", name="Save name").click()
    page.wait_for_load_state()
    assert answered.value.status == 400
    audit(page)
    body = page.locator("main").inner_text()
    assert "X-CSRFToken" not in body
    assert re.search(r"expired", body, re.I)
    page.get_by_role("link", name=re.compile("try again|back", re.I)).first.click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{server.url}/account")
