"""Detection rules: thresholds over counters in the shared store, each firing its catalogue
event once when its threshold is reached within its window, and re-arming when the window
ends. Thresholds and windows are settings (config.py: TALARO_DETECT_*, TALARO_LOCK_SECONDS).

Accounts are keyed by the keyed hash of the attempted email (`user.hash`), the same for
existing and unknown accounts, so a lock never tells whether an account exists.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, has_request_context, request

from talaro.identity import current_principal
from talaro.permissions import DENIED_TARGET
from talaro.security.store import EXTENSION, Store
from talaro.telemetry.catalogue import (
    AUTHN_LOGIN_FAIL_MAX,
    AUTHN_LOGIN_LOCK,
    EXCESS_RATE_LIMIT_EXCEEDED,
    MALICIOUS_DIRECT_REFERENCE,
    MALICIOUS_EXCESS_404,
    EventSpec,
)
from talaro.telemetry.events import FAILURE, emit

BRUTE_FORCE = "brute_force_one_account"
CREDENTIAL_STUFFING = "credential_stuffing_one_address"
DISTRIBUTED_STUFFING = "distributed_credential_stuffing"
MANY_REGISTRATIONS = "many_registrations_one_address"
EXCESS_404 = "excess_404_one_source"
DIRECT_REFERENCE = "forbidden_object_references_one_source"
EVIDENCE_LIST_LIMIT = 20  # accounts or addresses listed in one record
SINCE_LAST_SUCCESS = 86_400  # failures before a success are remembered for a day


def _store() -> Store | None:
    state = current_app.extensions.get(EXTENSION)
    return state.store if state is not None else None


def _setting(name: str) -> Any:
    return current_app.config[name]


def _address() -> str:
    return (request.remote_addr or "unknown") if has_request_context() else "local"


def _source() -> tuple[str, str]:
    """Who made the request: the signed-in user if any, else the client address."""
    principal = current_principal()
    if principal is not None:
        return "user", principal.user_id
    return "address", _address()


def _fired(spec: EventSpec, rule: str, reason: str, evidence: dict[str, Any]) -> None:
    """A rule reached its threshold: its event, with the rule's name and its evidence."""
    emit(spec, outcome=FAILURE, reason=reason, attributes={"security_rule.name": rule, **evidence})


def _window(count_setting: str, window_setting: str) -> dict[str, Any]:
    return {
        "talaro.rule.threshold": _setting(count_setting),
        "talaro.rule.window_s": _setting(window_setting),
    }


# Sign-in ------------------------------------------------------------------------------


def account_locked(user_hash: str) -> bool:
    store = _store()
    return store is not None and store.has_flag(f"lock:{user_hash}")


def login_failed(user_hash: str, *, account_exists: bool) -> None:
    """Count a failed sign-in against the account, the address and the whole service."""
    store = _store()
    if store is None:
        return
    store.incr(f"since:{user_hash}", SINCE_LAST_SUCCESS)
    _brute_force(store, user_hash, account_exists)
    _credential_stuffing(store, user_hash)
    _distributed_stuffing(store, user_hash)


def login_succeeded(user_hash: str) -> int:
    """A successful sign-in ends the account's failure window; returns how many failures
    preceded it since the last success (for `authn_login_successafterfail`), or 0 below
    TALARO_DETECT_SUCCESS_AFTER_FAILURES."""
    store = _store()
    if store is None:
        return 0
    store.take(f"acct:{user_hash}")
    failures = store.take(f"since:{user_hash}")
    if failures and failures >= _setting("TALARO_DETECT_SUCCESS_AFTER_FAILURES"):
        return failures
    return 0


def _brute_force(store: Store, user_hash: str, account_exists: bool) -> None:
    threshold = _setting("TALARO_DETECT_ACCOUNT_FAILURES")
    window = _setting("TALARO_DETECT_ACCOUNT_WINDOW")
    count = store.incr(f"acct:{user_hash}", window)
    if count == threshold:
        _fired(
            AUTHN_LOGIN_FAIL_MAX,
            BRUTE_FORCE,
            f"{count} failed sign-ins for one account within {window}s",
            {
                "user.hash": user_hash,
                "talaro.rule.count": count,
                "talaro.login.account_exists": account_exists,
                **_window("TALARO_DETECT_ACCOUNT_FAILURES", "TALARO_DETECT_ACCOUNT_WINDOW"),
            },
        )
    # At the threshold, and again at the next failure if the window outlives the lock.
    if count >= threshold:
        seconds = _setting("TALARO_LOCK_SECONDS")
        if seconds > 0 and store.flag(f"lock:{user_hash}", seconds):
            # The account (by keyed hash, existing or not) refuses sign-ins for `seconds`.
            _fired(
                AUTHN_LOGIN_LOCK,
                BRUTE_FORCE,
                f"Sign-in locked for {seconds}s after {count} failures",
                {
                    "user.hash": user_hash,
                    "talaro.lock.seconds": seconds,
                    "talaro.login.failures": count,
                },
            )


def _credential_stuffing(store: Store, user_hash: str) -> None:
    threshold = _setting("TALARO_DETECT_STUFFING_ACCOUNTS")
    window = _setting("TALARO_DETECT_STUFFING_WINDOW")
    address = _address()
    key = f"stuffing:{address}"
    new, accounts = store.add(key, user_hash, window)
    if new and accounts == threshold:
        _fired(
            AUTHN_LOGIN_FAIL_MAX,
            CREDENTIAL_STUFFING,
            f"Failed sign-ins for {accounts} accounts from one address within {window}s",
            {
                "talaro.rule.count": accounts,
                "talaro.rule.accounts": store.members(key)[:EVIDENCE_LIST_LIMIT],
                **_window("TALARO_DETECT_STUFFING_ACCOUNTS", "TALARO_DETECT_STUFFING_WINDOW"),
            },
        )


def _distributed_stuffing(store: Store, user_hash: str) -> None:
    """Service-wide failures in the current window against the mean of the windows before
    it (the slow-moving baseline); fires at max(minimum, factor x baseline)."""
    window = _setting("TALARO_DETECT_SERVICE_WINDOW")
    history = _setting("TALARO_DETECT_SERVICE_BASELINE")
    bucket = int(store.clock() // window)
    keep = window * (history + 2)
    count = store.incr(f"service:{bucket}", keep)
    store.add(f"service:accounts:{bucket}", user_hash, 2 * window)
    store.add(f"service:addresses:{bucket}", _address(), 2 * window)
    minimum = _setting("TALARO_DETECT_SERVICE_MIN_FAILURES")
    if count < minimum:
        return
    previous = store.get_many([f"service:{b}" for b in range(bucket - history, bucket)])
    baseline = sum(previous) / history if history else 0.0
    factor = _setting("TALARO_DETECT_SERVICE_FACTOR")
    if count < max(minimum, factor * baseline) or not store.flag(f"service:fired:{bucket}", window):
        return
    addresses = store.members(f"service:addresses:{bucket}")
    _fired(
        AUTHN_LOGIN_FAIL_MAX,
        DISTRIBUTED_STUFFING,
        f"{count} failed sign-ins service-wide within {window}s (usual {baseline:.1f} per window)",
        {
            "talaro.rule.count": count,
            "talaro.rule.baseline": round(baseline, 2),
            "talaro.rule.factor": factor,
            "talaro.rule.minimum": minimum,
            "talaro.rule.window_s": window,
            "talaro.rule.accounts_count": len(store.members(f"service:accounts:{bucket}")),
            "talaro.rule.addresses_count": len(addresses),
            "talaro.rule.addresses": addresses[:EVIDENCE_LIST_LIMIT],
        },
    )


# Registration and probing -------------------------------------------------------------


def registered() -> None:
    """A self-registration succeeded: count it against the client address."""
    store = _store()
    if store is None:
        return
    threshold = _setting("TALARO_DETECT_REGISTRATIONS")
    window = _setting("TALARO_DETECT_REGISTRATIONS_WINDOW")
    address = _address()
    count = store.incr(f"registrations:{address}", window)
    if count == threshold:
        _fired(
            EXCESS_RATE_LIMIT_EXCEEDED,
            MANY_REGISTRATIONS,
            f"{count} registrations from one address within {window}s",
            {
                "talaro.rule.count": count,
                **_window("TALARO_DETECT_REGISTRATIONS", "TALARO_DETECT_REGISTRATIONS_WINDOW"),
            },
        )


def _probe(kind: str, rule: str, count_setting: str, window_setting: str) -> None:
    store = _store()
    if store is None:
        return
    source_kind, source = _source()
    window = _setting(window_setting)
    count = store.incr(f"{kind}:{source_kind}:{source}", window)
    if count != _setting(count_setting):
        return
    evidence = {
        "talaro.rule.count": count,
        "talaro.rule.source": source_kind,
        "url.path": request.path[:1024],
        **_window(count_setting, window_setting),
    }
    if kind == "404":
        reason = f"{count} requests for missing resources within {window}s"
        _fired(MALICIOUS_EXCESS_404, rule, reason, evidence)
    else:
        reason = f"{count} denied requests for objects within {window}s"
        _fired(MALICIOUS_DIRECT_REFERENCE, rule, reason, evidence)


def count_response(response: Response) -> Response:
    """After every request: count 404s, and 403s that name an object (by the URL or by
    the denied target, see permissions.deny), against their source."""
    if response.status_code == 404:
        _probe("404", EXCESS_404, "TALARO_DETECT_404", "TALARO_DETECT_404_WINDOW")
    elif response.status_code == 403 and (request.view_args or g.get(DENIED_TARGET)):
        _probe("403", DIRECT_REFERENCE, "TALARO_DETECT_403", "TALARO_DETECT_403_WINDOW")
    return response
