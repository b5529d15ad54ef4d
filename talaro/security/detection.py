"""Detection rules: thresholds over counters in the shared store, each firing its catalogue
event once when its threshold is reached within its window, and re-arming when the window
ends. Thresholds and windows are settings (config.py: TALARO_DETECT_*, TALARO_LOCK_SECONDS).

Accounts are keyed by the keyed hash of the attempted email (`user.hash`), the same for
existing and unknown accounts, so a lock never tells whether an account exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, g, has_request_context, request

from talaro.identity import current_principal
from talaro.permissions import DENIED_TARGET
from talaro.security.locks import lock_account, locked_until
from talaro.security.store import EXTENSION, Store
from talaro.telemetry.catalogue import (
    AUTHN_LOGIN_FAIL_MAX,
    AUTHN_LOGIN_LOCK,
    AUTHN_REQUIRED,
    AUTHN_TOKEN_FAIL_MAX,
    AUTHZ_FAIL,
    ERROR,
    EXCESS_RATE_LIMIT_EXCEEDED,
    HTTP_CONNECTION_TIMEOUT,
    INPUT_VALIDATION_FAIL,
    MALICIOUS_DIRECT_REFERENCE,
    MALICIOUS_EXCESS_404,
    MALICIOUS_LOG_FLOOD,
    MALICIOUS_SLOW_CONNECTIONS,
    SESSION_CSRF_FAIL,
    UPLOAD_VALIDATION,
    EventSpec,
    SeverityNumber,
)
from talaro.telemetry.events import FAILURE, emit

BRUTE_FORCE = "brute_force_one_account"
CREDENTIAL_STUFFING = "credential_stuffing_one_address"
DISTRIBUTED_STUFFING = "distributed_credential_stuffing"
MANY_REGISTRATIONS = "many_registrations_one_address"
BAD_TOKENS = "invalid_bearer_tokens_one_address"
EXCESS_404 = "excess_404_one_source"
DIRECT_REFERENCE = "forbidden_object_references_one_source"
SLOW_CONNECTIONS = "slow_connections_one_address"
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


def _fired(
    spec: EventSpec,
    rule: str,
    reason: str,
    evidence: dict[str, Any],
    severity: SeverityNumber | None = None,
) -> None:
    """A rule reached its threshold: its event, with the rule's name and its evidence."""
    emit(
        spec,
        outcome=FAILURE,
        reason=reason,
        severity=severity,
        attributes={"security_rule.name": rule, **evidence},
    )


def _window(count_setting: str, window_setting: str) -> dict[str, Any]:
    return {
        "talaro.rule.threshold": _setting(count_setting),
        "talaro.rule.window_s": _setting(window_setting),
    }


def _reached(rule_setting: str, key: str) -> dict[str, Any] | None:
    """Count one more for `key` within the window of the rule set by `rule_setting`
    (TALARO_DETECT_X, and TALARO_DETECT_X_WINDOW); when this one reaches the threshold,
    the rule's evidence (count, threshold, window), else None: each rule fires once per
    window."""
    store = _store()
    if store is None:
        return None
    window_setting = f"{rule_setting}_WINDOW"
    count = store.incr(key, _setting(window_setting))
    if count != _setting(rule_setting):
        return None
    return {"talaro.rule.count": count, **_window(rule_setting, window_setting)}


# Sign-in ------------------------------------------------------------------------------


def account_locked(user_hash: str) -> bool:
    """Locked in the database (every worker, through a Redis outage and a restart), or by
    the store's flag (set too, for when the database could not take the lock)."""
    store = _store()
    if store is None:
        return False
    until = locked_until(user_hash)
    if until is not None and until > store.clock():
        return True
    return store.has_flag(f"lock:{user_hash}")


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
        if seconds <= 0:
            return
        now = store.clock()
        took = lock_account(user_hash, until=now + seconds, now=now, failures=count)
        flagged = store.flag(f"lock:{user_hash}", seconds)
        # The database decides who locked (one record, whichever worker); without it, the flag.
        if took or (took is None and flagged):
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
    evidence = _reached("TALARO_DETECT_REGISTRATIONS", f"registrations:{_address()}")
    if evidence is not None:
        _fired(
            EXCESS_RATE_LIMIT_EXCEEDED,
            MANY_REGISTRATIONS,
            f"{evidence['talaro.rule.count']} registrations from one address "
            f"within {evidence['talaro.rule.window_s']}s",
            evidence,
            # The event of one rate-limit hit (WARN), fired here by a detection rule.
            severity=ERROR,
        )


def _probe(kind: str, spec: EventSpec, rule: str, rule_setting: str, what: str) -> None:
    source_kind, source = _source()
    evidence = _reached(rule_setting, f"{kind}:{source_kind}:{source}")
    if evidence is None:
        return
    evidence.update({"talaro.rule.source": source_kind, "url.path": request.path[:1024]})
    reason = f"{evidence['talaro.rule.count']} {what} within {evidence['talaro.rule.window_s']}s"
    _fired(spec, rule, reason, evidence)


def count_response(response: Response) -> Response:
    """After every request: count 404s, and 403s that name an object (by the URL or by
    the denied target, see permissions.deny), against their source."""
    if response.status_code == 404:
        _probe(
            "404",
            MALICIOUS_EXCESS_404,
            EXCESS_404,
            "TALARO_DETECT_404",
            "requests for missing resources",
        )
    elif response.status_code == 403 and (request.view_args or g.get(DENIED_TARGET)):
        _probe(
            "403",
            MALICIOUS_DIRECT_REFERENCE,
            DIRECT_REFERENCE,
            "TALARO_DETECT_403",
            "denied requests for objects",
        )
    return response


# Connections ------------------------------------------------------------------------------


def connection_timed_out(address: str, state: str, waited_s: float) -> None:
    """The server closed a connection from `address` that sent nothing (`silent`) or part
    of a request (`incomplete`) within its timeout: one `http_connection_timeout` (counted
    in talaro.http.connections.timed_out); TALARO_DETECT_SLOW_CONNECTIONS of them within
    the window fire `malicious_slow_connections` once (slowloris, or connections held open
    to starve the server). Called by the server (gunicorn.conf.py), in an app context."""
    emit(
        HTTP_CONNECTION_TIMEOUT,
        outcome=FAILURE,
        reason=f"No complete request within {waited_s:g}s",
        attributes={"client.address": address, "talaro.connection.state": state},
    )
    evidence = _reached("TALARO_DETECT_SLOW_CONNECTIONS", f"slow:{address}")
    if evidence is not None:
        evidence["client.address"] = address
        reason = (
            f"{evidence['talaro.rule.count']} connections closed without a complete request "
            f"within {evidence['talaro.rule.window_s']}s"
        )
        _fired(MALICIOUS_SLOW_CONNECTIONS, SLOW_CONNECTIONS, reason, evidence)


# Bearer tokens ---------------------------------------------------------------------------


def bearer_token_refused() -> None:
    """A bearer token that authenticates no one (made up, revoked or its user inactive):
    count it against the client address; TALARO_DETECT_BAD_TOKENS within the window fires
    `authn_token_fail_max` once (guessing tokens, or a leaked list being tried)."""
    evidence = _reached("TALARO_DETECT_BAD_TOKENS", f"badtoken:{_address()}")
    if evidence is not None:
        _fired(
            AUTHN_TOKEN_FAIL_MAX,
            BAD_TOKENS,
            f"{evidence['talaro.rule.count']} requests with unknown or revoked API tokens "
            f"from one address within {evidence['talaro.rule.window_s']}s",
            evidence,
        )


# Flooding the security stream ------------------------------------------------------------

LOG_FLOOD = "security_records_one_source"
# The security records a client causes at will, one or more per request, with no other
# bound: while its source floods they are counted, not written. Everything else is always
# written: sign-in failures, locks, every rule's event, token and account events.
FLOODABLE = frozenset(
    spec.name
    for spec in (
        AUTHN_REQUIRED,
        AUTHZ_FAIL,
        INPUT_VALIDATION_FAIL,
        SESSION_CSRF_FAIL,
        UPLOAD_VALIDATION,
    )
)
_TALLY = "talaro_security_tally"  # g: [records, bytes] of the request's security records
_FLOODING = "talaro_flooding"  # g: {source key: flooding}, asked once per request


def _flood_key(part: str, kind: str, source: str) -> str:
    return f"flood:{part}:{kind}:{source}"


def admit_security_record(spec: EventSpec, attributes: Mapping[str, Any]) -> bool:
    """Telemetry asks this before writing a security record (`Runtime.admit`): the record
    is tallied for the request's source, and refused when it is a routine one and that
    source is flooding. The source is the signed-in user, else the client address (as
    TALARO_TRUSTED_PROXIES sees it), so no one can make another user's records refused."""
    if not has_request_context():
        return True
    tally = g.setdefault(_TALLY, [0, 0])
    tally[0] += 1
    tally[1] += _approximate_size(attributes)
    if spec.name not in FLOODABLE:
        return True
    key = _flood_key("on", *_source())
    seen = g.setdefault(_FLOODING, {})
    if key not in seen:
        store = _store()
        seen[key] = store is not None and store.has_flag(key)
    return not seen[key]


def _approximate_size(attributes: Mapping[str, Any]) -> int:
    """What a record costs the file, near enough: its keys and values as text."""
    size = 0
    for key, value in attributes.items():
        if isinstance(value, str):
            size += len(key) + len(value)
        elif isinstance(value, list | tuple):
            size += len(key) + sum(len(str(item)) for item in value)
        else:
            size += len(key) + 8
    return size


def count_security_records(response: Response) -> Response:
    """After every request: add its security records (number and bytes) to its source's
    window. Over TALARO_DETECT_FLOOD_RECORDS or TALARO_DETECT_FLOOD_BYTES the source is
    flooding: `malicious_log_flood` fires once, and its routine records are counted
    (/readyz `dropped`), not written, until the window ends."""
    tally = g.pop(_TALLY, None)
    store = _store()
    if not tally or store is None:
        return response
    kind, source = _source()
    window = _setting("TALARO_DETECT_FLOOD_WINDOW")
    records = store.incr_by(_flood_key("records", kind, source), tally[0], window)
    size = store.incr_by(_flood_key("bytes", kind, source), tally[1], window)
    most, largest = _setting("TALARO_DETECT_FLOOD_RECORDS"), _setting("TALARO_DETECT_FLOOD_BYTES")
    if records <= most and size <= largest:
        return response
    rest = store.ttl(_flood_key("records", kind, source)) or window
    if store.flag(_flood_key("on", kind, source), rest):
        _fired(
            MALICIOUS_LOG_FLOOD,
            LOG_FLOOD,
            f"{records} security records ({size} bytes) from one {kind} within {window}s; "
            f"its routine records are counted, not written, for {rest:.0f}s",
            {
                "talaro.rule.count": records,
                "talaro.rule.bytes": size,
                "talaro.rule.threshold": most,
                "talaro.rule.bytes_threshold": largest,
                "talaro.rule.window_s": window,
                "talaro.rule.source": kind,
                "talaro.rule.suppressed_events": sorted(FLOODABLE),
                "talaro.rule.suppressed_s": round(rest, 3),
            },
        )
    return response
