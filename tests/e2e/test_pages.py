"""Every page of the header, for each demo role, passes axe-core; a learner resumes a course
from the dashboard (the first browser test, kept)."""

import pytest

from tests.e2e import harness
from tests.e2e.harness import ROLES, audit, log_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.mark.parametrize(
    "role",
    [
        # The learner's header offers "Organizations", which answers 403 (a header showing only
        # what the person may use comes with the role navigation of i13-ux).
        "learner",
        "ospo-admin",
        "sponsor-admin",
        "platform-admin",
        "anonymous",
    ],
)
def test_every_header_page_passes_axe(page, server, role):
    if role == "anonymous":
        page.goto(server.url)
    else:
        log_in(page, server.url, ROLES[role])
        assert "/login" not in page.url
    audit(page)
    # The footer's pages (the long API reference) are the same for everyone: audited once.
    where = "header a, footer a" if role == "anonymous" else "header a"
    links = page.locator(where).evaluate_all("links => links.map(a => a.href)")
    visited, refused = {page.url}, []
    for href in links:
        if not href.startswith(server.url) or href in visited:
            continue
        visited.add(href)
        response = page.goto(href)
        audit(page)
        if not response.ok:
            refused.append((href, response.status))
    assert len(visited) >= 3
    assert refused == [], "the header offers pages the person may not use"


@pytest.mark.parametrize(
    "path",
    [
        "/verify",
        "/verify/ABCD-EFGH-JKLM",  # no such certificate
        "/password/reset",
        "/register",
        "/sponsorship-plans",
        "/courses/open-source-foundations",
        "/courses/open-source-foundations/lessons/what-open-source-means",
        "/courses/open-source-foundations/lessons/spdx-data-and-compatibility",  # code blocks
        "/courses/open-source-foundations/lessons/check-why-open",
        "/no-such-page",
    ],
)
def test_public_pages_pass_axe(page, server, path):
    page.goto(server.url + path)
    audit(page)


def test_a_learner_resumes_and_completes_a_lesson(page, server):
    log_in(page, server.url, "chen.data@example.org")  # resumes at a lesson
    page.goto(f"{server.url}/dashboard")
    audit(page)
    before = int(page.locator("meter").first.get_attribute("value"))

    page.get_by_role("link", name="Resume:").first.click()
    assert page.locator("h1").inner_text()
    audit(page)
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/dashboard")
    after = int(page.locator("meter").first.get_attribute("value"))
    assert after > before


def test_the_audit_fails_on_a_serious_violation(page, server):
    """The helper itself: a page with an unlabelled input and an image without text fails."""
    page.goto(f"{server.url}/verify")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
             '<img src="/favicon.ico"><input type="text" id="unlabelled">')"""
    )
    violations = harness.axe_violations(page)
    assert {"image-alt", "label"} <= {v["id"] for v in violations}
    with pytest.raises(AssertionError, match="image-alt"):
        audit(page)
    page.goto(f"{server.url}/verify")
    page.evaluate("""() => document.querySelector("main").insertAdjacentHTML("beforeend",
                         '<p id="twice">a</p><p id="twice">b</p>')""")
    with pytest.raises(AssertionError, match="twice"):
        audit(page)
