"""How a request is authenticated: the session cookie (browsers) or a bearer token (API).

The loaders set the request's principal (talaro/identity.py), which CSRF enforcement,
detection and telemetry read; the principal is loaded before the views run, so every
record of the request carries the user.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from talaro import identity, request_limits
from talaro.error_handlers import error_response, wants_json
from talaro.extensions import csrf, db, login_manager
from talaro.identity import AuthMethod
from talaro.models import User
from talaro.permissions import (
    PASSWORD_CHANGE_REQUIRED,
    UNAUTHENTICATED,
    authentication_required,
    require_own_password,
)
from talaro.security import detection
from talaro.services import accounts, sessions

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# JSON calls that need no CSRF token: they create the session rather than ride on one.
CSRF_FREE_ENDPOINTS = frozenset({"auth.login", "auth.register"})


@login_manager.user_loader
def load_session_user(user_id: str) -> User | None:
    user = db.session.get(User, user_id)
    if user is None:
        return None
    if not sessions.resume(user, accounts.current_session_id()):
        # Ended or expired on the server: the cookie is dropped and the request is anonymous.
        session.clear()
        return None
    identity.set_principal(user, AuthMethod.SESSION)
    return user


@login_manager.request_loader
def load_token_user(req: Request) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = accounts.live_token(secret.strip())
    if token is None:
        detection.bearer_token_refused()
        return None
    identity.set_principal(token.user, AuthMethod.TOKEN, token_id=token.id)
    return token.user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    if wants_json():
        authentication_required(401)
        return error_response(401, UNAUTHENTICATED)
    authentication_required(302)
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


# What a user with a temporary password may still do: change it, see who they are, leave.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {
        "auth.change_password",
        "auth.me",
        "auth.csrf",
        "auth.login",
        "auth.logout",
        "pages.change_password",
        "pages.login",
        "pages.logout",
        "static",
    }
)


def enforce_password_change() -> Any:
    """Until a temporary password is changed, every other request is refused (the API)
    or sent to the change form (the pages)."""
    if identity.current_principal() is None or request.endpoint in PASSWORD_CHANGE_ENDPOINTS:
        return None
    user = current_user._get_current_object()
    if user.password_must_change and not wants_json():
        flash(PASSWORD_CHANGE_REQUIRED, "info")
        return redirect(url_for("pages.change_password"))
    require_own_password(user)
    return None


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
    # Body limits before CSRF enforcement, which reads a form body to find the token.
    request_limits.init_app(app)
    app.before_request(enforce_csrf)
    app.before_request(enforce_password_change)
