"""From an empty organization to 25 enrolled researchers: through the API and through the pages."""

import io
import re
from datetime import timedelta

from lms.core.db import utcnow
from tests.accounts.test_views import csrf_from
from tests.conftest import log_in
from tests.factories import UserFactory

PASSWORD = "journey passphrase 25"


def tokens_in(mailbox) -> dict[str, str]:
    found = {}
    for message in mailbox.messages:
        match = re.search(r"/invitations/(\S+)", message.get_content())
        if match:
            found[message["To"]] = match.group(1)
    return found


def test_twenty_five_researchers_through_the_api(admin_client, app, mailbox, db):
    assert (
        admin_client.post(
            "/api/v1/organizations", json={"slug": "uni", "name": "Uni OSPO"}
        ).status_code
        == 201
    )
    start = utcnow()
    assert (
        admin_client.post(
            "/api/v1/organizations/uni/seat-grants",
            json={
                "seats": 25,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(days=365)).isoformat(),
                "note": "Invoice 1",
            },
        ).status_code
        == 201
    )
    staff = UserFactory(email="staff@uni.example")
    assert (
        admin_client.post(
            "/api/v1/organizations/uni/invitations", json={"email": staff.email, "role": "admin"}
        ).status_code
        == 201
    )
    ospo = log_in(app.test_client(), staff)
    assert (
        ospo.post(
            f"/api/v1/invitations/{tokens_in(mailbox)[staff.email]}/accept", json={}
        ).status_code
        == 200
    )

    csv = "email,name\n" + "".join(f"r{n}@uni.example,Researcher {n}\n" for n in range(25))
    report = ospo.post(
        "/api/v1/organizations/uni/invitations/import",
        data={"file": (io.BytesIO(csv.encode()), "r.csv")},
        content_type="multipart/form-data",
    ).json
    assert report["created"] == 25
    tokens = tokens_in(mailbox)
    for n in range(25):
        response = app.test_client().post(
            f"/api/v1/invitations/{tokens[f'r{n}@uni.example']}/accept",
            json={"name": f"Researcher {n}", "password": PASSWORD},
        )
        assert response.status_code == 200, response.json
    membership = ospo.get("/api/v1/organizations/uni/membership").json
    assert (membership["seats_used"], membership["seats_free"]) == (25, 0)
    # The 26th cannot get in.
    extra = ospo.post("/api/v1/organizations/uni/invitations", json={"email": "x@uni.example"})
    assert extra.status_code == 409


def post_form(client, page, action, data, files=None):
    token = csrf_from(client.get(page))
    payload = {**data, "csrf_token": token, **(files or {})}
    return client.post(action, data=payload, content_type="multipart/form-data" if files else None)


def test_twenty_five_researchers_through_the_pages(client, admin, app, mailbox, db):
    from tests.accounts.test_views import login_page

    login_page(client, admin)
    created = post_form(
        client,
        "/organizations",
        "/organizations",
        {"name": "Page University OSPO", "slug": "page-uni", "kind": "university_ospo"},
    )
    assert created.status_code == 302
    granted = post_form(
        client,
        "/organizations/page-uni/seat-grants",
        "/organizations/page-uni/seat-grants",
        {
            "seats": "25",
            "starts_on": str(utcnow().date()),
            "ends_on": str((utcnow() + timedelta(days=365)).date()),
            "note": "PO 7",
        },
    )
    assert granted.status_code == 302
    staff = UserFactory(email="pagestaff@uni.example")
    invited = post_form(
        client,
        "/organizations/page-uni",
        "/organizations/page-uni/invitations",
        {"email": staff.email, "role": "admin"},
    )
    assert invited.status_code == 302

    ospo = app.test_client()
    login_page(ospo, staff)
    accept_page = f"/invitations/{tokens_in(mailbox)[staff.email]}"
    assert post_form(ospo, accept_page, accept_page, {}).status_code == 302

    csv = "email,name\n" + "".join(f"p{n}@uni.example,Person {n}\n" for n in range(25))
    preview = post_form(
        ospo,
        "/organizations/page-uni",
        "/organizations/page-uni/invitations/import",
        {"dry_run": "y"},
        files={"file": (io.BytesIO(csv.encode()), "p.csv")},
    )
    assert preview.status_code == 200
    assert "Preview: 25 to invite" in " ".join(preview.get_data(as_text=True).split())
    applied = post_form(
        ospo,
        "/organizations/page-uni",
        "/organizations/page-uni/invitations/import",
        {},
        files={"file": (io.BytesIO(csv.encode()), "p.csv")},
    )
    assert "Result: 25 invited" in " ".join(applied.get_data(as_text=True).split())

    tokens = tokens_in(mailbox)
    for n in range(25):
        person = app.test_client()
        page = f"/invitations/{tokens[f'p{n}@uni.example']}"
        done = post_form(person, page, page, {"name": f"Person {n}", "password": PASSWORD})
        assert done.status_code == 302, done.get_data(as_text=True)[:500]

    dashboard = " ".join(ospo.get("/organizations/page-uni").get_data(as_text=True).split())
    assert "<strong>25</strong> of 25 seats used" in dashboard
    assert '<meter min="0" max="25" value="25"' in dashboard
    found = ospo.get("/organizations/page-uni?q=person 7").get_data(as_text=True)
    assert "p7@uni.example" in found and "p8@uni.example" not in found
