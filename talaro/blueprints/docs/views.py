"""`/api/docs`: the OpenAPI document (`/api/openapi.json`) in Swagger UI, served offline.

Swagger UI's files come from the `flask-swagger-ui` package (the upstream distribution,
kept current), served from here rather than a CDN; its own page starts the UI with an
inline script, which our content security policy refuses, so the page is ours and the
start-up is a file (`static/swagger-init.js`). A plain Flask blueprint: the docs are not
an operation of the API they document.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import Blueprint, abort, render_template, send_from_directory, url_for

# The upstream distribution inside the package; only the files the page loads are served.
SWAGGER_UI_DIST = str(files("flask_swagger_ui") / "dist")
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"})

bp = Blueprint("docs", __name__)


@bp.route("/api/docs")
def api_docs() -> Any:
    """Interactive API documentation, for anyone (as `/api/openapi.json` is)."""
    return render_template("docs/api.html", spec_url=url_for("api-docs.openapi_json"))


# Under /static/, like the app's own files: no span or request record per asset.
@bp.route("/static/swagger-ui/<name>")
def swagger_ui_file(name: str) -> Any:
    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIST, name, max_age=3600)
