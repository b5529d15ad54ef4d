"""Users, sign-in and API tokens: the rules shared by the API, the pages and the CLI."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask_login import login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from talaro.errors import Conflict, Invalid, NotFound, Unauthenticated
from talaro.extensions import db
from talaro.identity import AuthMethod, account_key, clear_principal, set_principal
from talaro.models import ApiToken, Role, User, utcnow
from talaro.security import detection
from talaro.services.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from talaro.telemetry.catalogue import (
    AUTHN_LOGIN_FAIL,
    AUTHN_LOGIN_SUCCESS,
    AUTHN_LOGIN_SUCCESSAFTERFAIL,
    AUTHN_TOKEN_CREATED,
    AUTHN_TOKEN_REUSE,
    AUTHN_TOKEN_REVOKED,
    AUTHZ_CHANGE,
    SESSION_EXPIRED,
    USER_CREATED,
)
from talaro.telemetry.events import FAILURE, emit, recorded
from talaro.telemetry.spans import span

TOKEN_PREFIX = "tlr_"
LAST_USED_PRECISION = timedelta(minutes=1)
# One message for unknown user, wrong password and inactive user: never tell which.
BAD_CREDENTIALS = "Invalid email or password"


def normalise_email(email: str) -> str:
    """Validate an address's syntax and return it lower-cased (no DNS lookup)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid("Invalid email address", details={"fields": {"email": [str(exc)]}}) from exc


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
            details={"fields": {"password": ["too short"]}},
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def create_user(
    email: str,
    password: str,
    name: str,
    role: Role = Role.INTERVIEWER,
    *,
    via: str = "registration",
) -> User:
    """Create a user; 409 when the email is taken (compared case-insensitively)."""
    with recorded(USER_CREATED, **{"talaro.via": via}) as details:
        email = normalise_email(email)
        check_password_strength(password)
        if find_user_by_email(email) is not None:
            raise Conflict("A user with this email already exists", code="email_taken")
        user = User(
            email=email,
            name=name.strip() or email,
            password_hash=hash_password(password),
            role=role,
        )
        db.session.add(user)
        db.session.commit()
        details.update({"target.user.id": user.id, "target.user.roles": [user.role]})
    if via == "registration":
        detection.registered()
    return user


def authenticate(email: str, password: str) -> User:
    """The user these credentials belong to, or 401 with one uniform message.

    Unknown user, wrong password, inactive and locked account cost the same and answer
    the same; only the security event says which (and whether the account exists).
    """
    user = find_user_by_email(email) if email else None
    with span("password.verify"):
        # Always verified, even for a locked or unknown account: every path costs the same.
        ok = verify_password(user.password_hash if user else None, password)
    account = account_key(email)
    reason = _refusal(user, ok, locked=detection.account_locked(account))
    if reason is not None:
        # The attempted identity only as its keyed hash.
        emit(
            AUTHN_LOGIN_FAIL,
            outcome=FAILURE,
            reason=reason,
            attributes={"user.hash": account, "talaro.login.account_exists": user is not None},
        )
        detection.login_failed(account, account_exists=user is not None)
        raise Unauthenticated(BAD_CREDENTIALS, code="invalid_credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    set_principal(user, AuthMethod.PASSWORD)
    emit(AUTHN_LOGIN_SUCCESS)
    failures = detection.login_succeeded(account)
    if failures:
        emit(
            AUTHN_LOGIN_SUCCESSAFTERFAIL,
            reason=f"Signed in after {failures} failed attempts",
            attributes={
                "security_rule.name": "success_after_failures",
                "talaro.login.failures": failures,
            },
        )
    return user


def _refusal(user: User | None, password_ok: bool, *, locked: bool) -> str | None:
    """Why a sign-in is refused (for the security record only), or None to let it in."""
    if locked:
        return "locked"
    if user is None:
        return "unknown user"
    if not password_ok:
        return "wrong password"
    return None if user.active else "inactive"


def start_session(user: User) -> None:
    """Sign `user` in with the session cookie (after `authenticate`)."""
    login_user(user)
    set_principal(user, AuthMethod.SESSION)


def end_session() -> None:
    """Sign out of the session cookie."""
    emit(SESSION_EXPIRED, reason="logout")
    logout_user()
    clear_principal()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.created_at)))


def update_user(
    user: User, *, role: str | None = None, active: bool | None = None, acting: User | None = None
) -> User:
    """Change a user's role or active flag; an admin cannot lock themself out."""
    if (
        acting is not None
        and acting.id == user.id
        and ((role is not None and role != Role.ADMIN) or active is False)
    ):
        raise Conflict("Admins cannot demote or deactivate themselves", code="self_lockout")
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = f"{user.role}->{role}"
        user.role = Role(role)
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
    db.session.commit()
    if changes:
        emit(
            AUTHZ_CHANGE,
            attributes={
                "target.user.id": user.id,
                "target.user.roles": [user.role],
                "talaro.changes": sorted(f"{key}={value}" for key, value in changes.items()),
                "talaro.via": "api" if acting is not None else "cli",
            },
        )
    return user


# API tokens ------------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its hash is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_token_digest(secret))
    db.session.add(token)
    db.session.commit()
    emit(AUTHN_TOKEN_CREATED, attributes={"talaro.token.id": token.id})
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at)
    )
    return list(db.session.scalars(query))


def revoke_token(user: User, token_id: str) -> ApiToken:
    with recorded(AUTHN_TOKEN_REVOKED, **{"talaro.token.id": token_id}):
        token = db.session.get(ApiToken, token_id)
        # Another user's token is reported exactly like a missing one.
        if token is None or token.user_id != user.id or token.revoked_at is not None:
            raise NotFound("Token not found")
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def user_for_token(secret: str, now: datetime | None = None) -> User | None:
    """The active user owning a live token, updating its last-used time; else None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _token_digest(secret))
    )
    token = db.session.scalar(query)
    if token is not None and token.revoked_at is not None:
        # Its id, never its secret; one record per use.
        emit(
            AUTHN_TOKEN_REUSE,
            outcome=FAILURE,
            reason="Revoked API token presented",
            attributes={
                "security_rule.name": "revoked_token_reuse",
                "talaro.token.id": token.id,
                "target.user.id": token.user_id,
                "talaro.token.revoked_at": token.revoked_at.isoformat(),
            },
        )
        return None
    if token is None or not token.user.active:
        return None
    now = now or utcnow()
    # A write per request would serialise every API call on the database: minute precision.
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token.user
