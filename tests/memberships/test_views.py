"""The organization pages apply the API's rules and answer with the API's status codes."""

import io

import pytest
import sqlalchemy as sa

from lms.memberships.models import Invitation, Organization
from tests.accounts.test_views import csrf_from
from tests.factories import OrganizationFactory


def create_on_page(client, **fields):
    token = csrf_from(client.get("/organizations"))
    data = {"name": "Page OSPO", "slug": "page-ospo", "kind": "other", **fields}
    return client.post("/organizations", data={**data, "csrf_token": token})


def stored(db, slug: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.slug == slug))


@pytest.mark.parametrize(
    "website",
    ["javascript:alert(1)", "ftp://ospo.example", "ospo", "https://x.example/" + "x" * 300],
    ids=["javascript", "ftp", "no-scheme", "too-long"],
)
def test_the_page_refuses_a_website_the_api_refuses(admin_client, db, website):
    response = create_on_page(admin_client, website=website)
    assert response.status_code == 422
    assert 'id="website-error"' in response.get_data(as_text=True)
    assert stored(db, "page-ospo") is None
    api = admin_client.post(
        "/api/v1/organizations", json={"slug": "api-ospo", "name": "API", "website": website}
    )
    assert api.status_code == 422


def test_the_page_stores_what_the_api_stores(admin_client, db):
    response = create_on_page(
        admin_client,
        website=" https://ospo.example/about ",
        country="DE",
        contact_email="ospo@uni.example",
    )
    assert response.status_code == 302
    organization = stored(db, "page-ospo")
    assert (organization.website, organization.country, organization.contact_email) == (
        "https://ospo.example/about",
        "DE",
        "ospo@uni.example",
    )


@pytest.mark.parametrize(
    ("field", "value"), [("slug", "Bad Slug"), ("slug", "x"), ("country", "de"), ("country", "DEU")]
)
def test_the_page_refuses_a_slug_or_country_the_api_refuses(admin_client, db, field, value):
    assert create_on_page(admin_client, **{field: value}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_a_taken_slug_is_409_on_the_page_as_on_the_api(admin_client, db):
    OrganizationFactory(slug="page-ospo", name="First")
    response = create_on_page(admin_client)
    assert response.status_code == 409
    assert "An organization with this slug exists." in response.get_data(as_text=True)
    api = admin_client.post("/api/v1/organizations", json={"slug": "page-ospo", "name": "Again"})
    assert api.status_code == 409


def test_a_csv_over_the_size_limit_is_413_on_the_page(org_admin_client, org, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "INVITATION_CSV_MAX_BYTES", 100)
    token = csrf_from(org_admin_client.get("/organizations/ospo"))
    csv = "email\n" + "".join(f"p{i}@uni.example\n" for i in range(50))
    response = org_admin_client.post(
        "/organizations/ospo/invitations/import",
        data={"file": (io.BytesIO(csv.encode()), "people.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "CSV files are limited to" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
