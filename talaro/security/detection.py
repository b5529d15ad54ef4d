"""Detection rules: thresholds over counters in the shared store, each firing its catalogue
event once when its threshold is reached within its window, and re-arming when the window
ends. Thresholds and windows are settings (config.py: TALARO_DETECT_*, TALARO_LOCK_SECONDS).

Accounts are keyed by the keyed hash of the attempted email (`user.hash`), the same for
existing and unknown accounts, so a lock never tells whether an account exists.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import current_user

from talaro.security import EXTENSION
from talaro.security.store import Store
from talaro.telemetry import events

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
    if has_request_context():
        try:
            if current_user.is_authenticated:
                return "user", str(current_user.id)
        except Exception:  # noqa: BLE001 - a broken loader must not hide the count
            pass
    return "address", _address()


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
        events.login_fail_max(
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
            events.login_locked(user_hash, seconds, count)


def _credential_stuffing(store: Store, user_hash: str) -> None:
    threshold = _setting("TALARO_DETECT_STUFFING_ACCOUNTS")
    window = _setting("TALARO_DETECT_STUFFING_WINDOW")
    address = _address()
    key = f"stuffing:{address}"
    new, accounts = store.add(key, user_hash, window)
    if new and accounts == threshold:
        events.login_fail_max(
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
    events.login_fail_max(
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
        events.rate_limit_exceeded(
            f"{count} registrations from one address within {window}s",
            {
                "security_rule.name": MANY_REGISTRATIONS,
                "talaro.rule.count": count,
                **_window("TALARO_DETECT_REGISTRATIONS", "TALARO_DETECT_REGISTRATIONS_WINDOW"),
            },
        )


def _probe(kind: str, rule: str, count_setting: str, window_setting: str) -> None:
    store = _store()
    if store is None or not has_request_context() or g.get(f"talaro_counted_{kind}"):
        return
    g.setdefault(f"talaro_counted_{kind}", True)  # one count per request
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
        events.excess_404(rule, reason, evidence)
    else:
        reason = f"{count} denied requests for objects within {window}s"
        events.direct_reference(rule, reason, evidence)


def not_found() -> None:
    """A request answered 404 (an unknown URL or object)."""
    _probe("404", EXCESS_404, "TALARO_DETECT_404", "TALARO_DETECT_404_WINDOW")


def object_denied(target: dict[str, str] | None) -> None:
    """A 403; counted when the request names an object (by its URL or the denied target)."""
    if not (target or (has_request_context() and request.view_args)):
        return
    _probe("403", DIRECT_REFERENCE, "TALARO_DETECT_403", "TALARO_DETECT_403_WINDOW")
