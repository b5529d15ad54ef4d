"""Looking people up: the interviewers a scheduler can book, and the account behind a
`user.hash` for an operator reading the security stream."""

from __future__ import annotations

import re

from sqlalchemy import select

from talaro.errors import Invalid, NotFound
from talaro.extensions import db
from talaro.identity import account_key
from talaro.models import User
from talaro.telemetry.catalogue import USER_HASH_RESOLVE
from talaro.telemetry.events import recorded

USER_HASH = re.compile(r"[0-9a-f]{32}")


def interviewers() -> list[User]:
    """Everyone who can be booked as an interviewer (any active user, as scheduling
    accepts), by name; callers show their name and email, nothing more."""
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.email)
    return list(db.session.scalars(query))


def resolve_user_hash(user_hash: str) -> User:
    """The account whose keyed email hash (`identity.account_key`) is `user_hash`, recorded
    as `user_hash_resolve` whether or not one is found.

    :raise 404: no account has it (a failed sign-in for an email without an account, or a
        hash made under another TALARO_TELEMETRY_HASH_KEY).
    """
    wanted = user_hash.strip().lower()
    if not USER_HASH.fullmatch(wanted):
        raise Invalid("A user.hash is 32 hexadecimal digits")
    with recorded(USER_HASH_RESOLVE, **{"target.user.hash": wanted}) as details:
        # A keyed hash cannot be looked up, only recomputed: one HMAC per account.
        users = db.session.scalars(select(User))
        found = next((user for user in users if account_key(user.email) == wanted), None)
        if found is None:
            raise NotFound(
                "No account has this hash: a failed sign-in for an email with no account, "
                "or a hash made with another TALARO_TELEMETRY_HASH_KEY"
            )
        details["target.user.id"] = found.id
    return found
