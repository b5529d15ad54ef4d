"""Users, sign-in and API tokens: the rules shared by the API, the pages and the CLI."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import g, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from talaro.errors import Conflict, Invalid, NotFound, PasswordRefused, Unauthenticated
from talaro.extensions import db
from talaro.identity import AuthMethod, account_key, auth_method, clear_principal, set_principal
from talaro.models import ApiToken, Role, User, new_id, utcnow
from talaro.security import detection
from talaro.services import sessions, time_zones
from talaro.services.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from talaro.telemetry.catalogue import (
    AUTHN_LOGIN_FAIL,
    AUTHN_LOGIN_SUCCESS,
    AUTHN_LOGIN_SUCCESSAFTERFAIL,
    AUTHN_PASSWORD_CHANGE,
    AUTHN_PASSWORD_CHANGE_FAIL,
    AUTHN_PASSWORD_RESET,
    AUTHN_TOKEN_CREATED,
    AUTHN_TOKEN_REUSE,
    AUTHN_TOKEN_REVOKED,
    AUTHZ_CHANGE,
    SESSION_EXPIRED,
    USER_CREATE_EXISTING,
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


def check_password_strength(
    password: str, email: str | None = None, field: str = "password"
) -> None:
    """422 naming `field` when the password breaks the policy (services/passwords.py)."""
    problem = password_problem(password, email=email)
    if problem is not None:
        raise Invalid(problem, details={"fields": {field: [problem]}})


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
    """Create a user; 409 when the email is taken (compared case-insensitively). For
    operators and admins: self-registration goes through `register`, which tells no one."""
    with recorded(USER_CREATED, **{"talaro.via": via}) as details:
        email = normalise_email(email)
        check_password_strength(password, email)
        if find_user_by_email(email) is not None:
            raise Conflict("A user with this email already exists", code="email_taken")
        user = User(
            email=email,
            name=name.strip() or email,
            password_hash=hash_password(password),
            role=role,
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError as exc:  # a concurrent registration of the same address
            db.session.rollback()
            raise Conflict("A user with this email already exists", code="email_taken") from exc
        details.update({"target.user.id": user.id, "target.user.roles": [user.role]})
    return user


def register(email: str, password: str, name: str) -> User:
    """Self-registration, answering the same whether or not the address has an account.

    A new address gets an INTERVIEWER account. For a taken one nothing is created: the
    caller gets a user-shaped answer that is never stored (same cost: the password is
    hashed all the same), the security team a `user_create_existing` record, and the
    account's owner a notice at their next sign-in."""
    email = normalise_email(email)
    check_password_strength(password, email)
    detection.registered()  # both outcomes count: from outside they look the same
    if find_user_by_email(email) is None:
        try:
            return create_user(email, password, name, via="registration")
        except Conflict:
            pass  # lost a race with another registration: answer as for a taken address
    hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        existing.registration_attempted_at = utcnow()
        db.session.commit()
    emit(
        USER_CREATE_EXISTING,
        outcome=FAILURE,
        reason="Registration attempted for an address that has an account",
        attributes={
            "user.hash": account_key(email),
            "target.user.id": existing.id if existing is not None else None,
        },
    )
    return User(
        id=new_id(),
        email=email,
        name=name.strip() or email,
        role=Role.INTERVIEWER,
        active=True,
        password_must_change=False,
    )


REGISTRATION_NOTICE = (
    "Someone tried to register a new account with your email address on {when} (UTC). "
    "If it was not you, nothing was changed; consider changing your password."
)


def take_notices(user: User) -> list[str]:
    """Notices for the user at sign-in (shown once)."""
    notices: list[str] = []
    if user.registration_attempted_at is not None:
        when = user.registration_attempted_at.strftime("%Y-%m-%d %H:%M")
        notices.append(REGISTRATION_NOTICE.format(when=when))
        user.registration_attempted_at = None
        db.session.commit()
    return notices


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
            attributes={
                "user.hash": account,
                "talaro.login.account_exists": user is not None,
                "http.response.status_code": Unauthenticated.status,
            },
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


SESSION_ID_KEY = "talaro_sid"  # the session cookie's key for its UserSession row
CSRF_KEYS = ("csrf_token",)  # Flask-WTF's raw token, in the session and cached in g


def start_session(user: User) -> None:
    """Sign `user` in with the session cookie (after `authenticate`): a fresh session (no
    value of the anonymous one survives, the CSRF token included) with a row of its own."""
    session.clear()
    for key in CSRF_KEYS:
        g.pop(key, None)
    row = sessions.open_session(user)
    login_user(user)
    session[SESSION_ID_KEY] = row.id
    set_principal(user, AuthMethod.SESSION)


def current_session_id() -> str | None:
    value = session.get(SESSION_ID_KEY)
    return value if isinstance(value, str) else None


def end_session(user: User) -> None:
    """Sign out: every session of the user ends, on every device (the product's rule:
    logout makes every earlier cookie of the user useless)."""
    ended = sessions.end_sessions(user.id, sessions.EndReason.LOGOUT)
    db.session.commit()
    emit(SESSION_EXPIRED, reason="logout", attributes={"talaro.session.ended_count": ended})
    logout_user()
    session.clear()
    clear_principal()


def sign_out_everywhere(user: User, *, acting: User | None = None) -> int:
    """End every session of `user` and revoke their API tokens (an ADMIN, or the CLI)."""
    ended = _cut_off(user, sessions.EndReason.SIGNED_OUT_EVERYWHERE)
    db.session.commit()
    emit(
        SESSION_EXPIRED,
        reason=sessions.EndReason.SIGNED_OUT_EVERYWHERE,
        attributes={
            "target.user.id": user.id,
            "talaro.session.ended_count": ended,
            "talaro.via": "api" if acting is not None else "cli",
        },
    )
    return ended


def _cut_off(user: User, reason: str) -> int:
    """End the user's sessions and revoke their tokens (not committed): nothing issued
    before survives, not even a reactivation."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return sessions.end_sessions(user.id, reason)


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
    ended = None
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
        if not active:
            ended = _cut_off(user, sessions.EndReason.DEACTIVATED)
    db.session.commit()
    if changes:
        emit(
            AUTHZ_CHANGE,
            attributes={
                "target.user.id": user.id,
                "target.user.roles": [user.role],
                "talaro.changes": sorted(f"{key}={value}" for key, value in changes.items()),
                "talaro.via": "api" if acting is not None else "cli",
                "talaro.session.ended_count": ended,
            },
        )
    return user


# Settings --------------------------------------------------------------------


def set_time_zone(user: User, name: str | None) -> User:
    """Save the IANA zone the pages show `user` times in; None forgets it (UTC then).

    :raise 422: `Invalid` for a name that is not an IANA zone.
    """
    user.time_zone = None if name is None else time_zones.checked(name)
    db.session.commit()
    return user


def adopt_browser_time_zone(user: User, name: str) -> bool:
    """Save the zone the user's browser reports, unless one is saved already (a choice
    made on the settings page stays). Returns whether it was saved.

    :raise 422: `Invalid` for a name that is not an IANA zone.
    """
    name = time_zones.checked(name)
    if user.time_zone is not None:
        return False
    user.time_zone = name
    db.session.commit()
    return True


# Passwords -------------------------------------------------------------------

WRONG_CURRENT = "The current password is not right"


def change_password(user: User, current: str, new: str) -> int:
    """Change one's own password (the current one required): every other session of the
    user ends, the one making the change stays. Returns how many sessions ended.

    A wrong current password counts as a failed sign-in of the account (so guessing it
    through a stolen session meets the same lock), and a locked account is refused alike."""
    account = account_key(user.email)
    with span("password.verify"):
        ok = verify_password(user.password_hash, current)
    reason = "locked" if detection.account_locked(account) else None if ok else "wrong password"
    if reason is not None:
        _password_change_failed(reason)
        if reason == "wrong password":
            detection.login_failed(account, account_exists=True)
        raise PasswordRefused(
            WRONG_CURRENT, details={"fields": {"current_password": [WRONG_CURRENT]}}
        )
    if new == current:
        _password_change_failed("same password")
        message = "Choose a new password different from the current one"
        raise Invalid(message, details={"fields": {"new_password": [message]}})
    try:
        check_password_strength(new, user.email, field="new_password")
    except Invalid:
        _password_change_failed("policy")
        raise
    _set_password(user, new, must_change=False)
    keep = current_session_id() if auth_method() is AuthMethod.SESSION else None
    ended = sessions.end_sessions(user.id, sessions.EndReason.PASSWORD_CHANGE, keep=keep)
    db.session.commit()
    emit(AUTHN_PASSWORD_CHANGE, attributes={"talaro.session.ended_count": ended})
    return ended


def _password_change_failed(reason: str) -> None:
    # Every refusal is a 422; the status lets `--status 4xx` find a wrong current password,
    # which writes no input_validation_fail.
    emit(
        AUTHN_PASSWORD_CHANGE_FAIL,
        outcome=FAILURE,
        reason=reason,
        attributes={"http.response.status_code": Invalid.status},
    )


def _set_password(user: User, password: str, *, must_change: bool) -> None:
    user.password_hash = hash_password(password)
    user.password_must_change = must_change
    user.password_changed_at = utcnow()


def reset_password(
    user: User, password: str, *, temporary: bool = True, acting: User | None = None
) -> int:
    """An ADMIN (or an operator, `acting` None) sets `user`'s password; a temporary one
    must be changed at the next sign-in. Every session of the user ends."""
    if acting is not None and acting.id == user.id:
        raise Conflict(
            "Change your own password with your current one (POST /api/auth/password)",
            code="own_password",
        )
    check_password_strength(password, user.email)
    _set_password(user, password, must_change=temporary)
    ended = sessions.end_sessions(user.id, sessions.EndReason.PASSWORD_RESET)
    db.session.commit()
    emit(
        AUTHN_PASSWORD_RESET,
        attributes={
            "target.user.id": user.id,
            "talaro.via": "api" if acting is not None else "cli",
            "talaro.password.temporary": temporary,
            "talaro.session.ended_count": ended,
        },
    )
    return ended


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


def live_token(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret, of an active user, its last-used time updated;
    else None."""
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
    return token


def user_for_token(secret: str, now: datetime | None = None) -> User | None:
    """The active user owning a live token, updating its last-used time; else None."""
    token = live_token(secret, now)
    return token.user if token is not None else None
