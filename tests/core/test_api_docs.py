"""OpenAPI 3.1 document and an offline docs page."""

import re


def test_openapi_document_is_3_1_and_lists_the_api(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/auth/login" in spec["paths"]
    assert "/api/v1/me/tokens/{token_id}" in spec["paths"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["summary"].startswith("Log in")


def test_docs_page_renders_every_operation_without_external_resources(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for path in ("/api/v1/auth/register", "/api/v1/me/tokens", "/api/v1/auth/password-reset"):
        assert path in html
    assert "RegisterIn" in html  # schemas are documented
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
    assert "<script" not in html
