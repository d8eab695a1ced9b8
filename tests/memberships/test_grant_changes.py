"""A grant change that changes nothing leaves the ledger alone."""

from datetime import datetime, timedelta, timezone

import pytest

from lms.core.db import utcnow


@pytest.fixture
def grant(admin_client, org):
    start = utcnow().replace(microsecond=0)
    response = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants",
        json={
            "seats": 25,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=365)).isoformat(),
            "note": "Invoice 2026-17",
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def ledger_actions(client, grant_id):
    ledger = client.get("/api/v1/organizations/ospo/seat-grants/ledger").json
    return [e["action"] for e in ledger if e["grant_id"] == grant_id]


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"seats": 25},
        {"ends_at": "same"},
        {"ends_at": "same, in another time zone"},
        {"seats": 25, "ends_at": "same"},
    ],
)
def test_a_change_that_changes_nothing_writes_no_ledger_row(admin_client, grant, change):
    url = f"/api/v1/organizations/ospo/seat-grants/{grant['id']}"
    payload = {"reason": "just checking", **change}
    if "ends_at" in change:
        ends_at = datetime.fromisoformat(grant["ends_at"])
        if "another" in change["ends_at"]:
            ends_at = ends_at.astimezone(timezone(timedelta(hours=-5)))
        payload["ends_at"] = ends_at.isoformat()
    response = admin_client.patch(url, json=payload)
    assert response.status_code == 200, response.json
    assert response.json == grant
    assert ledger_actions(admin_client, grant["id"]) == ["created"]

    real = admin_client.patch(url, json={"seats": 26, "reason": "one more"})
    assert real.status_code == 200 and real.json["seats"] == 26
    assert ledger_actions(admin_client, grant["id"]) == ["changed", "created"]
