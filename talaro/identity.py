"""Who is making the current request: the one place that knows.

Authentication (talaro/auth.py, services/accounts.py) sets the principal when it knows
the user: the session loader, the bearer-token loader, a password sign-in. Everything
else only reads it: CSRF enforcement asks how the request authenticated, detection and
locks key accounts by `account_key`, telemetry puts the user on spans and records.

A ground-floor module: it imports Flask and nothing of Talaro, so any layer may read it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context

HASH_KEY_SETTING = "TALARO_TELEMETRY_HASH_KEY"  # its historical name; documented in README
_SLOT = "talaro_principal"
_LAST = "talaro_last_principal"  # who made the request, even after signing out in it


class AuthMethod(enum.StrEnum):
    SESSION = "session"  # the session cookie of a browser
    TOKEN = "token"  # an API bearer token
    PASSWORD = "password"  # email and password, during the sign-in request itself


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, as read by every layer (never a model object)."""

    user_id: str
    email: str
    role: str
    method: AuthMethod
    account_key: str  # keyed hash of the email: a pseudonym that stays stable
    token_id: str | None = None  # the API token's id (never its secret), for TOKEN

    @property
    def roles(self) -> list[str]:
        return [self.role]


def account_key(email: str) -> str:
    """A stable pseudonym for an account's email (HMAC-SHA256 under the hash key), the
    same for existing and unknown accounts, so it can key locks and name failed sign-ins
    without telling whether the account exists."""
    key = current_app.config[HASH_KEY_SETTING].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def set_principal(user: Any, method: AuthMethod, token_id: str | None = None) -> Principal:
    """Called by authentication when the request's user is known."""
    principal = Principal(
        user_id=user.id,
        email=user.email,
        role=str(user.role),
        method=method,
        account_key=account_key(user.email),
        token_id=token_id,
    )
    setattr(g, _SLOT, principal)
    setattr(g, _LAST, principal)
    return principal


def clear_principal() -> None:
    """Called at sign-out: the rest of the request is anonymous."""
    g.pop(_SLOT, None)


def current_principal() -> Principal | None:
    """The request's signed-in user, or None (anonymous, or outside a request)."""
    if not has_request_context():
        return None
    return g.get(_SLOT)


def request_principal() -> Principal | None:
    """Who made the request: the signed-in user, or the one who signed out during it."""
    if not has_request_context():
        return None
    return g.get(_SLOT) or g.get(_LAST)


def auth_method() -> AuthMethod | None:
    principal = current_principal()
    return principal.method if principal is not None else None


def init_app(app: Flask) -> None:
    """A pseudonymisation key of its own, derived from the secret key unless set."""
    if not app.config.get(HASH_KEY_SETTING):
        secret = str(app.config["SECRET_KEY"]).encode()
        derived = hmac.new(secret, b"talaro telemetry user hash", hashlib.sha256).hexdigest()
        app.config[HASH_KEY_SETTING] = derived
