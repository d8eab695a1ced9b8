"""Issue 13: one product for every role, from pages alone. Driven as a browser would (GET
the form, POST it with its token), on both databases."""

import io
import re
import tarfile

import pytest
import sqlalchemy as sa

from lms.progress.models import Enrollment, LessonProgress
from lms.sponsorships.models import Sponsor, SponsorAdmin
from tests.accounts.test_views import csrf_from, login_page, submit
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import (
    DEFAULT_PASSWORD,
    MemberFactory,
    OrganizationFactory,
    SeatGrantFactory,
    UserFactory,
)


def html_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def org(db):
    organization = OrganizationFactory(slug="ospo", name="Example OSPO")
    SeatGrantFactory(organization=organization, seats=5)
    return organization


@pytest.fixture
def course(db, tmp_path):
    from lms.courses import services

    return services.import_course_folder(make_course(tmp_path), publish=True)


def sponsor_admin(db):
    user = UserFactory()
    sponsor = Sponsor(name="Open Research Fund", billing_email="fund@example.org")
    db.session.add(sponsor)
    db.session.flush()
    db.session.add(SponsorAdmin(sponsor_id=sponsor.id, user_id=user.id))
    db.session.commit()
    return user, sponsor


# -- landing by role, and a safe next ---------------------------------------------------


def test_each_role_lands_on_its_own_page_after_login(client, db, org):
    learner = MemberFactory(organization=org, role="learner").user
    ospo = MemberFactory(organization=org, role="admin").user
    platform = UserFactory(is_platform_admin=True)
    sponsor_user, sponsor = sponsor_admin(db)
    nobody = UserFactory()
    expected = {
        learner: "/dashboard",
        ospo: "/organizations/ospo",
        platform: "/organizations",
        sponsor_user: f"/sponsors/{sponsor.id}/impact",
        nobody: "/dashboard",
    }
    for person, landing in expected.items():
        client.delete_cookie("lms_session")
        response = login_page(client, person)
        assert response.status_code == 302 and response.headers["Location"] == "/start"
        start = client.get("/start")
        assert start.status_code == 302 and start.headers["Location"] == landing, person
        page = client.get(landing)
        assert page.status_code == 200, (landing, html_of(page)[:300])
        assert f"Welcome back, {person.name}." in html_of(page)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "http:/evil.example"],
)
def test_login_never_follows_an_offsite_next(client, user, target):
    token = csrf_from(client.get("/login"))
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/start"


def test_an_anonymous_visit_goes_to_login_and_back(client, user, org):
    MemberFactory(organization=org, role="learner", user=user)
    wanted = "/certificates"
    response = client.get(wanted)
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    form = client.get(login_url)
    assert form.status_code == 200
    done = client.post(
        login_url,
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_from(form)},
    )
    assert done.status_code == 302 and done.headers["Location"] == wanted


def test_accepting_an_invitation_lands_on_the_persons_start_page(client, db, org, mailbox):
    """After setting a password on the invitation page, a learner lands on their courses."""
    log_in(client, MemberFactory(organization=org, role="admin").user)
    sent = client.post("/api/v1/organizations/ospo/invitations", json={"email": "new@example.org"})
    assert sent.status_code == 201, sent.json
    link = re.search(r"/invitations/(\S+)", mailbox.last_to("new@example.org").get_content())
    client.csrf_token = None
    client.delete_cookie("lms_session")
    page = client.get(link.group(0))
    done = client.post(
        link.group(0),
        data={"csrf_token": csrf_from(page), "name": "New Person", "password": "a-long-pass-2026"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/start"
    assert client.get("/start").headers["Location"] == "/dashboard"
    assert "Welcome to Example OSPO!" in html_of(client.get("/dashboard"))


# -- the header shows only what the person may use -------------------------------------


def test_the_header_shows_only_what_the_person_may_use(client, db, org):
    anonymous = html_of(client.get("/"))
    assert "Log in" in anonymous and "My courses" not in anonymous and ">Admin<" not in anonymous

    learner = MemberFactory(organization=org, role="learner").user
    log_in(client, learner)
    page = html_of(client.get("/dashboard"))
    assert "My courses" in page and "My certificates" in page
    assert ">Organization<" not in page and ">Admin<" not in page and ">Sponsor<" not in page
    assert 'action="/logout"' in page and 'method="post"' in page

    ospo = MemberFactory(organization=org, role="admin").user
    log_in(client, ospo)
    page = html_of(client.get("/dashboard"))
    assert 'href="/organizations/ospo">Organization<' in page and ">Admin<" not in page

    sponsor_user, sponsor = sponsor_admin(db)
    log_in(client, sponsor_user)
    page = html_of(client.get("/dashboard"))
    assert f'href="/sponsors/{sponsor.id}/impact">Sponsor<' in page

    log_in(client, UserFactory(is_platform_admin=True))
    page = html_of(client.get("/dashboard"))
    assert 'href="/admin">Admin<' in page
    admin_page = html_of(client.get("/admin"))
    for link in ("/organizations", "/admin/courses", "/verify", "/sponsors"):
        assert f'href="{link}"' in admin_page


def test_the_admin_pages_are_for_platform_admins_only(client, user):
    log_in(client, user)
    for path in ("/admin", "/admin/courses"):
        response = client.get(path)
        assert response.status_code == 403
        assert "This page is not open to you" in html_of(response)


# -- CSRF: a page for people, JSON for programs ----------------------------------------


def test_a_stale_csrf_token_on_an_html_form_gets_a_page_with_a_way_back(client, user):
    log_in(client, user)
    client.csrf_token = None  # a form, not the API client
    response = client.post(
        "/account/profile",
        data={"name": "Changed", "csrf_token": "stale-token-from-yesterday"},
        headers={"Referer": "http://localhost/account"},
    )
    html = html_of(response)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "<h1>This form expired</h1>" in html
    assert "it was open too long or your session changed" in html
    assert "Your input was not saved; please try again." in html
    assert 'href="/account"' in html and "Back to the page you were on" in html
    assert "X-CSRFToken" not in html and "CSRF" not in html


def test_the_csrf_page_links_home_when_the_referrer_is_another_site(client, user):
    response = client.post(
        "/login",
        data={"email": user.email, "password": "x"},
        headers={"Referer": "https://evil.example/form"},
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "evil.example" not in html and "Back to the home page" in html


def test_a_csrf_failure_on_the_api_keeps_the_json_shape(client, user):
    log_in(client, user)
    client.csrf_token = None
    response = client.patch("/api/v1/me", json={"name": "x"})
    assert response.status_code == 400
    body = response.json
    assert set(body) >= {"code", "status", "message"} and body["code"] == 400
    assert "X-CSRFToken" in body["message"]


def test_error_pages_speak_the_products_words(client, user):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "<h1>Page not found</h1>" in html_of(missing)
    assert "Back to the home page" in html_of(missing)
    log_in(client, user)
    forbidden = client.get("/admin")
    assert "<h1>This page is not open to you</h1>" in html_of(forbidden)
    assert 'href="/start"' in html_of(forbidden)


# -- forms sent back with errors --------------------------------------------------------


def test_a_form_with_errors_ties_each_message_to_its_field_and_keeps_the_input(client):
    response = submit(
        client, "/register", {"name": "Ada", "email": "not-an-email", "password": "short"}
    )
    html = html_of(response)
    assert response.status_code == 422
    # The summary at the top links each problem to its field.
    summary = html.split('class="alert error-summary"')[1].split("</div>")[0]
    assert 'href="#email"' in summary and 'href="#password"' in summary
    assert 'role="alert"' in html
    for name in ("email", "password"):
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag
        assert f"{name}-error" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)
        assert f'id="{name}-error"' in html
    # What the person typed stays, except the password.
    assert 'value="not-an-email"' in html and 'value="Ada"' in html
    assert 'value="short"' not in html


def test_the_verify_form_ties_its_problem_to_the_field(client):
    response = client.get("/verify", query_string={"code": "nonsense!"})
    html = html_of(response)
    assert response.status_code == 404
    tag = re.search(r'<input[^>]*id="code"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in tag and 'aria-describedby="code-error"' in tag
    assert 'value="nonsense!"' in tag


# -- empty states ------------------------------------------------------------------------


def test_empty_states_say_what_to_do(client, db):
    organization = OrganizationFactory(slug="empty-org")
    admin = MemberFactory(organization=organization, role="admin").user
    log_in(client, admin)
    dashboard = html_of(client.get("/organizations/empty-org?q=zzz"))
    assert "Nobody matches" in dashboard
    report = html_of(client.get("/organizations/empty-org/report"))
    assert (
        "No learners yet" in report and 'href="/organizations/empty-org#invite-heading"' in report
    )
    courses = html_of(client.get("/dashboard"))
    assert "No courses yet" in courses and 'href="/courses"' in courses
    certificates = html_of(client.get("/certificates"))
    assert "No certificates yet" in certificates


# -- lessons: flash, double submit, print ------------------------------------------------


def test_marking_a_lesson_complete_twice_is_harmless(client, db, org, course):
    learner = MemberFactory(organization=org, role="learner").user
    log_in(client, learner)
    client.csrf_token = None
    course_page = client.get("/courses/tiny-course")
    enrolled = client.post(
        "/courses/tiny-course/enroll", data={"csrf_token": csrf_from(course_page)}
    )
    assert enrolled.status_code == 302
    lesson_url = enrolled.headers["Location"]
    lesson_page = client.get(lesson_url)
    assert "You are enrolled in" in html_of(lesson_page)
    token = csrf_from(lesson_page)
    complete = lesson_url + "/complete"
    first = client.post(complete, data={"csrf_token": token})
    second = client.post(complete, data={"csrf_token": token})  # the double click
    assert first.status_code == second.status_code == 302
    enrollment = db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == learner.id))
    rows = db.session.scalars(
        sa.select(LessonProgress).where(LessonProgress.enrollment_id == enrollment.id)
    ).all()
    assert len(rows) == 1 and rows[0].completed_at is not None
    assert enrollment.lessons_done == 1
    assert "Lesson marked as complete." in html_of(client.get(first.headers["Location"]))


def test_pages_load_the_script_that_prevents_double_submits(client):
    html = html_of(client.get("/login"))
    assert '<script src="/static/lms.js" defer></script>' in html
    with client.get("/static/lms.js") as script:
        assert script.status_code == 200
        assert "submitted" in script.get_data(as_text=True)
    with client.get("/static/lms.css") as response:
        css = response.get_data(as_text=True)
    assert "@media print" in css and "fieldset > legend" in css


# -- platform admin: courses and certificates from pages --------------------------------


def archive_of(folder) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return buffer.getvalue()


def test_a_platform_admin_imports_and_publishes_a_course_from_pages(client, db, admin, tmp_path):
    log_in(client, admin)
    client.csrf_token = None
    page = client.get("/admin/courses")
    assert "No courses yet" in html_of(page)
    imported = client.post(
        "/admin/courses/import",
        data={
            "csrf_token": csrf_from(page),
            "archive": (io.BytesIO(archive_of(make_course(tmp_path))), "tiny.tar.gz"),
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, html_of(imported)[:2000]
    listing = html_of(client.get("/admin/courses"))
    assert "is imported as a draft" in listing and "No (draft)" in listing
    published = client.post(
        "/admin/courses/tiny-course/publish",
        data={"csrf_token": csrf_from(client.get("/admin/courses")), "published": "1"},
    )
    assert published.status_code == 302
    assert "is published" in html_of(client.get("/admin/courses"))
    assert client.get("/courses/tiny-course").status_code == 200

    empty = client.post(
        "/admin/courses/import", data={"csrf_token": csrf_from(client.get("/admin/courses"))}
    )
    html = html_of(empty)
    assert empty.status_code == 422 and 'aria-invalid="true"' in html
    assert "Choose a .zip or .tar.gz file" in html


def test_a_platform_admin_revokes_and_reinstates_a_certificate_from_its_page(
    client, db, admin, org, course
):
    from lms.certificates import codes
    from lms.certificates.models import Certificate
    from lms.courses.models import Lesson
    from lms.progress import enrolling, lesson_progress, quizzes

    learner = MemberFactory(organization=org, role="learner").user
    enrollment, _ = enrolling.enroll(learner, "tiny-course")
    lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == enrollment.version_id)
    ).all()
    for lesson in lessons:
        if lesson.is_quiz:
            answers = {q["id"]: q["answer"] for q in lesson.questions}
            quizzes.submit_attempt(learner, enrollment.id, lesson.slug, answers)
        else:
            lesson_progress.mark_lesson(learner, enrollment.id, lesson.slug, "completed")
    db.session.commit()
    code = codes.display(db.session.scalar(sa.select(Certificate.code)))

    public = html_of(client.get(f"/verify/{code}"))
    assert "Revoke the certificate" not in public and "Copy the verification link" in public
    log_in(client, admin)
    client.csrf_token = None
    page = client.get(f"/verify/{code}")
    refused = client.post(
        f"/verify/{code}/revoke", data={"csrf_token": csrf_from(page), "reason": "  "}
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in html_of(refused)
    revoked = client.post(
        f"/verify/{code}/revoke", data={"csrf_token": csrf_from(page), "reason": "Plagiarism"}
    )
    assert revoked.status_code == 302
    after = html_of(client.get(f"/verify/{code}"))
    assert "is revoked" in after and "Revoked" in after and "Reinstate the certificate" in after
    reinstated = client.post(f"/verify/{code}/reinstate", data={"csrf_token": csrf_from(page)})
    assert reinstated.status_code == 302
    assert "is valid again" in html_of(client.get(f"/verify/{code}"))

    log_in(client, learner)
    client.csrf_token = None
    mine = client.get("/certificates")
    forbidden = client.post(
        f"/verify/{code}/revoke", data={"csrf_token": csrf_from(mine), "reason": "no"}
    )
    assert forbidden.status_code == 403


def enroll_through_the_page(client, org) -> str:
    """A new learner of ``org`` logs in and enrolls in tiny-course with the page's button;
    the address of the course's lessons (``.../check-basics`` is its quiz)."""
    log_in(client, MemberFactory(organization=org, role="learner").user)
    client.csrf_token = None
    enrolled = client.post(
        "/courses/tiny-course/enroll",
        data={"csrf_token": csrf_from(client.get("/courses/tiny-course"))},
    )
    return enrolled.headers["Location"].rsplit("/", 1)[0]


def test_the_same_quiz_form_sent_twice_is_graded_once(client, db, org, course):
    """A double click on "Submit answers" spends one attempt: the second POST of the same
    form (same attempt number, same answers) shows the first one's result."""
    from lms.progress.models import QuizAttempt

    base = enroll_through_the_page(client, org)
    quiz = client.get(f"{base}/check-basics")
    html = html_of(quiz)
    assert 'name="attempt_number" value="1"' in html
    form = {"csrf_token": csrf_from(quiz), "attempt_number": "1", "q1": "b", "q2": ["a"]}
    first = client.post(f"{base}/check-basics/attempt", data=form)
    second = client.post(f"{base}/check-basics/attempt", data=form)
    assert first.status_code == second.status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 1
    # The page after a graded attempt names the next one; sending it is a new attempt.
    assert 'name="attempt_number" value="2"' in html_of(second)
    third = client.post(f"{base}/check-basics/attempt", data={**form, "attempt_number": "2"})
    assert third.status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 2
    # Other answers under an old number are a new attempt too (another tab, not a repeat).
    other = client.post(f"{base}/check-basics/attempt", data={**form, "q1": "a"})
    assert other.status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 3


def test_a_form_sent_after_the_session_ended_goes_to_login_and_back_to_its_page(
    client, user, org, course
):
    """The CSRF token survives in the session, the login does not (logged out in another
    tab): the person logs in and comes back to the page the form was on, not to an address
    that only takes POST."""
    MemberFactory(organization=org, role="learner", user=user)
    log_in(client, user)
    client.csrf_token = None
    page = client.get("/courses/tiny-course")
    token = csrf_from(page)
    with client.session_transaction() as session:
        session.pop("_user_id", None)  # the login ended; the CSRF secret stays
    response = client.post(
        "/courses/tiny-course/enroll",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/courses/tiny-course"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/courses/tiny-course"
    assert "Log in to see this page." in html_of(client.get(response.headers["Location"]))


def test_an_unanswered_quiz_question_is_marked_beside_it(client, db, org, course):
    base = enroll_through_the_page(client, org)
    quiz = client.get(f"{base}/check-basics")
    response = client.post(
        f"{base}/check-basics/attempt",
        data={"csrf_token": csrf_from(quiz), "attempt_number": "1", "q1": "b"},
    )
    html = html_of(response)
    assert response.status_code == 422
    assert "Answer every question before submitting." in html
    assert 'id="q2-error"' in html and 'aria-describedby="q2-error"' in html
    assert 'id="q1-error"' not in html
    assert re.search(r'<input[^>]*id="q1-b"[^>]*checked', html)  # the answer given stays
