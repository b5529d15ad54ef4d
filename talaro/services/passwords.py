"""Password hashing with Argon2id (argon2-cffi), and the password policy of OWASP ASVS
(V2.1): at least 12 characters, at most 128, any characters, no composition rules, and not
a common password (a list shipped with the project: common_passwords.txt)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# What people put around a common word to pass composition rules: "Password2024!".
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` breaks the policy, in words for its owner, or None. Spaces count
    once in a row (ASVS: length after combining spaces)."""
    length = len(re.sub(r" {2,}", " ", password))
    if length < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters"
    folded = password.lower()
    bare = _DECORATION.sub("", folded)
    common = common_passwords()
    # A common password as it is, decorated with digits or symbols, or said twice.
    half = len(bare) // 2
    doubled = len(bare) % 2 == 0 and bare[:half] == bare[half:] and bare[:half] in common
    if folded in common or bare in common or doubled:
        return "This password is too common: choose another (a few unrelated words work well)"
    if email and email.split("@")[0].lower() in folded and len(email.split("@")[0]) >= 4:
        return "Do not use your email address in your password"
    return None


T = TypeVar("T")


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def _beside_the_event_loop(work: Callable[[], T]) -> T:
    """Argon2 is ~100 ms of C without the GIL: under gunicorn's gevent workers it runs in
    the hub's thread pool, so the worker's other connections are served meanwhile."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(work)  # type: ignore[no-any-return]
    return work()


def hash_password(password: str) -> str:
    return _beside_the_event_loop(lambda: _hasher().hash(password))


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user costs the same as a wrong password."""
    stored = password_hash or _dummy_hash()

    def matches() -> bool:
        # Caught here, in the pool's thread: an exception leaving it would be printed to
        # stderr by gevent's hub for every wrong password.
        try:
            return _hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return _beside_the_event_loop(matches) and bool(password_hash)


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
