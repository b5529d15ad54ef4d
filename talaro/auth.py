"""How a request is authenticated: the session cookie (browsers) or a bearer token (API).

`g.auth_method` records which, for CSRF enforcement and (later) telemetry.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from talaro.errors import error_response, wants_json
from talaro.extensions import csrf, db, login_manager
from talaro.models import User
from talaro.services import accounts
from talaro.telemetry import events
from talaro.telemetry.context import remember_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# JSON calls that need no CSRF token: they create the session rather than ride on one.
CSRF_FREE_ENDPOINTS = frozenset({"auth.login", "auth.register"})


@login_manager.user_loader
def load_session_user(user_id: str) -> User | None:
    user = db.session.get(User, user_id)
    if user is not None:
        remember_user(user, "session")
    return user


@login_manager.request_loader
def load_token_user(req: Request) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    user = accounts.user_for_token(secret.strip())
    if user is not None:
        remember_user(user, "token")
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    message = "Sign in or send a valid API token to use this endpoint"
    events.authentication_required(message)
    if wants_json():
        return error_response(401, message)
    return redirect(url_for("pages.login", next=request.full_path))


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """Never sets a session cookie on a response to a bearer-token request."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if g.get("auth_method") == "token":
            return False
        return super().should_set_cookie(app, session)


def enforce_csrf() -> None:
    """CSRF on every form post, and on JSON calls that ride on the session cookie."""
    if request.method in SAFE_METHODS or request.endpoint in CSRF_FREE_ENDPOINTS:
        return
    if request.path.startswith("/api/") and (
        not current_user.is_authenticated or g.get("auth_method") != "session"
    ):
        return
    csrf.protect()


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.session_interface = TokenAwareSessionInterface()
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's lifetime
    csrf.init_app(app)
    app.before_request(enforce_csrf)
