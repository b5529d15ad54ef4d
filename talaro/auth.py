"""How a request is authenticated: the session cookie (browsers) or a bearer token (API).

The loaders set the request's principal (talaro/identity.py), which CSRF enforcement,
detection and telemetry read; the principal is loaded before the views run, so every
record of the request carries the user.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from talaro import identity
from talaro.error_handlers import error_response, wants_json
from talaro.extensions import csrf, db, login_manager
from talaro.identity import AuthMethod
from talaro.models import User
from talaro.permissions import UNAUTHENTICATED, authentication_required
from talaro.services import accounts

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# JSON calls that need no CSRF token: they create the session rather than ride on one.
CSRF_FREE_ENDPOINTS = frozenset({"auth.login", "auth.register"})


@login_manager.user_loader
def load_session_user(user_id: str) -> User | None:
    user = db.session.get(User, user_id)
    if user is not None:
        identity.set_principal(user, AuthMethod.SESSION)
    return user


@login_manager.request_loader
def load_token_user(req: Request) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    user = accounts.user_for_token(secret.strip())
    if user is not None:
        identity.set_principal(user, AuthMethod.TOKEN)
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    authentication_required()
    if wants_json():
        return error_response(401, UNAUTHENTICATED)
    return redirect(url_for("pages.login", next=request.full_path))


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """Never sets a session cookie on a response to a bearer-token request."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if identity.auth_method() is AuthMethod.TOKEN:
            return False
        return super().should_set_cookie(app, session)


def load_principal() -> None:
    """Load the user up front, so spans and every record of the request carry it."""
    if request.endpoint != "static":
        current_user.is_authenticated  # noqa: B018


def enforce_csrf() -> None:
    """CSRF on every form post, and on JSON calls that ride on the session cookie."""
    if request.method in SAFE_METHODS or request.endpoint in CSRF_FREE_ENDPOINTS:
        return
    if request.path.startswith("/api/") and identity.auth_method() is not AuthMethod.SESSION:
        return
    csrf.protect()


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.session_interface = TokenAwareSessionInterface()
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's lifetime
    csrf.init_app(app)
    app.before_request(load_principal)
    app.before_request(enforce_csrf)
