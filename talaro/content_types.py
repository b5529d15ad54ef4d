"""JSON endpoints take JSON: any other body (a form, plain text) is a 415 that says so,
rather than webargs finding no JSON and answering 422 "missing fields".

Which endpoints take a JSON body is read from flask-smorest's own record of each view's
`@blp.arguments` (the same one the OpenAPI document is built from), once, at the first
request, when every view is registered and wrapped.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from talaro.errors import UnsupportedMediaType

MESSAGE = "This endpoint takes a JSON body: send it with the header Content-Type: application/json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _apidoc(view: Any) -> dict[str, Any]:
    """flask-smorest's documentation of a view, through any decorators wrapping it."""
    while view is not None:
        doc = getattr(view, "_apidoc", None)
        if isinstance(doc, dict):
            return doc
        view = getattr(view, "__wrapped__", None)
    return {}


def json_endpoints(app: Flask) -> frozenset[str]:
    """The endpoints whose body is a JSON document."""
    found = set()
    for endpoint, view in app.view_functions.items():
        parameters = _apidoc(view).get("arguments", {}).get("parameters", [])
        if any(parameter.get("in") == "json" for parameter in parameters):
            found.add(endpoint)
    return frozenset(found)


def init_app(app: Flask) -> None:
    endpoints: list[frozenset[str]] = []  # filled at the first request

    @app.before_request
    def refuse_other_bodies() -> None:
        if request.method in SAFE_METHODS:
            return
        if not endpoints:
            endpoints.append(json_endpoints(app))
        if request.endpoint not in endpoints[0] or request.is_json:
            return
        # A body, or a content type that announces one; no body at all is left to the schema.
        if request.mimetype or request.content_length:
            raise UnsupportedMediaType(MESSAGE, code="unsupported_media_type")
