"""What every record made during a request carries: who, from where, doing what.

Who comes from `talaro.identity` (authentication sets it; telemetry only reads it), shown
as TALARO_TELEMETRY_USER_IDENTITY says: the email, its keyed hash, or neither.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import current_app, g, has_request_context, request

from talaro.identity import Principal, current_principal, request_principal

USER_AGENT_LIMIT = 512
PATH_LIMIT = 1024

# TALARO_TELEMETRY_USER_IDENTITY: how staff identity is recorded.
IDENTITY_MODES = ("email", "hash", "off")
_CACHE = "talaro_telemetry_user"
_SHARED = "talaro_telemetry_shared"  # (principal, the attributes of every record)


def principal_attributes(principal: Principal) -> dict[str, Any]:
    """`user.id`, the configured identity, `user.roles`, how they authenticated and, with
    an API token, which one (`talaro.token.id`)."""
    mode = current_app.config["TALARO_TELEMETRY_USER_IDENTITY"]
    identity = (
        {"user.email": principal.email}
        if mode == "email"
        else {"user.hash": principal.account_key}
        if mode == "hash"
        else {}
    )
    attributes = {
        "user.id": principal.user_id,
        **identity,
        "user.roles": principal.roles,
        "talaro.auth.method": str(principal.method),
    }
    if principal.token_id is not None:
        attributes["talaro.token.id"] = principal.token_id
    return attributes


def user_attributes(*, acting: bool = False) -> dict[str, Any]:
    """The signed-in user, or nothing for an anonymous request (built once per principal);
    `acting`: the user who made the request even if they signed out in it (for the span)."""
    principal = request_principal() if acting else current_principal()
    if principal is None:
        return {}
    cached = g.get(_CACHE)
    if cached is None or cached[0] is not principal:
        cached = (principal, principal_attributes(principal))
        setattr(g, _CACHE, cached)
    return cached[1]


@cache
def process_owner() -> str:
    """The operating-system user running this process (OpenTelemetry's `process.owner`):
    the actor of what a command-line tool records."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return str(os.getuid())


def route_template() -> str | None:
    rule = request.url_rule
    return rule.rule if rule is not None else None


def request_attributes() -> Mapping[str, Any]:
    """Client, user agent, method, route and user of the current request; outside a
    request (a command, the process's start and stop), the operating-system user.

    Built once per request and signed-in user, and shared by every record of the request:
    copy it, never change it."""
    if not has_request_context():
        return {"process.owner": process_owner()}
    principal = current_principal()
    shared = g.get(_SHARED)
    if shared is not None and shared[0] is principal:
        return shared[1]
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
    # A sign-in or sign-out during the request changes the user: built again then.
    attributes = {**fixed, **user_attributes()}
    setattr(g, _SHARED, (principal, attributes))
    return attributes
