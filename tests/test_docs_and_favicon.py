"""`/api/docs` served from the service itself, and the favicon browsers ask for."""

from __future__ import annotations

from talaro.web_security import CONTENT_SECURITY_POLICY


def test_api_docs_page_and_its_files_come_from_the_service(client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # the start-up is a file, for script-src 'self'
    assert 'data-spec-url="/api/openapi.json"' in html
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        asset = client.get(f"/static/swagger-ui/{name}")
        assert asset.status_code == 200 and len(asset.data) > 10_000, name
    assert client.get("/static/swagger-init.js").status_code == 200
    # Only the files the page uses; never the upstream page with its inline script.
    assert client.get("/static/swagger-ui/oauth2-redirect.html").status_code == 404
    assert "/api/docs" not in client.get("/api/openapi.json").json["paths"]


def test_the_favicon_answers(client) -> None:
    for path in ("/favicon.ico", "/static/favicon.ico"):
        icon = client.get(path)
        assert icon.status_code == 200, path
        assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
