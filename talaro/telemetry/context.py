"""What every record made during a request carries: who, from where, doing what."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, g, has_request_context, request
from opentelemetry import trace

USER_AGENT_LIMIT = 512
PATH_LIMIT = 1024

# TALARO_TELEMETRY_USER_IDENTITY: how staff identity is recorded.
IDENTITY_MODES = ("email", "hash", "off")


def keyed_hash(value: str) -> str:
    """A stable pseudonym for `value` (HMAC-SHA256 under the telemetry hash key)."""
    key = current_app.config["TALARO_TELEMETRY_HASH_KEY"].encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def identity_attributes(email: str) -> dict[str, str]:
    """`user.email`, or its keyed hash `user.hash`, or nothing, as configured."""
    mode = current_app.config["TALARO_TELEMETRY_USER_IDENTITY"]
    if mode == "email":
        return {"user.email": email}
    if mode == "hash":
        return {"user.hash": keyed_hash(email)}
    return {}


def acting_user_attributes(user: Any, method: str) -> dict[str, Any]:
    """`user.id`, the configured identity, `user.roles` and how they authenticated."""
    return {
        "user.id": user.id,
        **identity_attributes(user.email),
        "user.roles": [user.role],
        "talaro.auth.method": method,
    }


def remember_user(user: Any, method: str) -> None:
    """Called when a request's user is known (by a loader or at sign-in). Records read the
    user's attributes from here, computed once, rather than from flask-login, so a record
    emitted while the user is being loaded cannot recurse into the loader."""
    g.talaro_user_attributes = acting_user_attributes(user, method)
    g.auth_method = method
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(g.talaro_user_attributes)


def forget_user() -> None:
    g.pop("talaro_user_attributes", None)


def user_attributes() -> dict[str, Any]:
    """The signed-in user, or nothing for an anonymous request."""
    if not has_request_context():
        return {}
    return g.get("talaro_user_attributes", {})


def route_template() -> str | None:
    rule = request.url_rule
    return rule.rule if rule is not None else None


def request_attributes() -> dict[str, Any]:
    """Client, user agent, method, route and user of the current request (if any)."""
    if not has_request_context():
        return {}
    fixed = g.get("talaro_request_attributes")
    if fixed is None:  # the same for every record of the request: build it once
        fixed = g.talaro_request_attributes = {
            # ProxyFix (TALARO_TRUSTED_PROXIES) makes remote_addr the real client.
            "client.address": request.remote_addr or "",
            "user_agent.original": request.user_agent.string[:USER_AGENT_LIMIT],
            "http.request.method": request.method,
        }
        route = route_template()
        if route is not None:
            fixed["http.route"] = route
    return {**fixed, **user_attributes()}
