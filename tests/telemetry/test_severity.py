"""Severities that mean something, over the whole catalogue: one denial or failure is WARN,
a detection rule firing or a lock is ERROR or above, starts, stops and account
administration are INFO; and the README's table says the same as the catalogue.

Every security event must be classified below: a new one fails here until someone decides
what it is (and so how soon a person should look at it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talaro.telemetry.catalogue import (
    APPLICATION,
    CATALOGUE,
    ERROR,
    INFO,
    SECURITY,
    SEVERITY_TEXT,
    WARN,
    EventSpec,
)

README = Path(__file__).resolve().parents[2] / "README.md"

# `sys_monitor_enabled`: shared state (Redis) is back, detection counts together again.
LIFECYCLE = {"sys_startup", "sys_shutdown", "sys_monitor_enabled"}
ADMINISTRATION = {
    "user_created",
    "authz_change",
    "user_hash_resolve",
    "authn_password_change",
    "authn_password_reset",
    "authn_token_created",
    "authn_token_revoked",
    "sensitive_delete",  # retention removing old security files
}
# Ordinary sign-ins and sign-outs. `authn_login_successafterfail` is annotated by a rule
# (success_after_failures) but is a success: context for the failures, not an alarm.
ROUTINE = {"authn_login_success", "authn_login_successafterfail", "session_expired"}
DENIALS = {
    "authz_fail",
    "authn_required",
    "authn_login_fail",
    "authn_password_change_fail",
    "session_use_after_expire",
    "session_csrf_fail",
    "user_create_existing",
    "upload_validation",
    "input_validation_fail",
    "excess_rate_limit_exceeded",  # one limiter hit; the registrations rule fires it as ERROR
}
DETECTIONS = {
    "authn_login_fail_max",
    "authn_token_fail_max",
    # A revoked credential presented: the revocation already stopped it, so it is evidence
    # to follow up, not an ongoing breach; one record per use, so CRITICAL would page on
    # every run of a forgotten script.
    "authn_token_reuse",
    "malicious_excess_404",
    "malicious_direct_reference",
    "malicious_log_flood",
    "malicious_slow_connections",
}
LOCKS = {"authn_login_lock"}
# Shared state (Redis) lost: detection and limits count in each worker until it is back.
OUTAGES = {"sys_monitor_disabled"}
INFO_CLASSES = LIFECYCLE | ADMINISTRATION | ROUTINE
CLASSIFIED = INFO_CLASSES | DENIALS | DETECTIONS | LOCKS | OUTAGES


def security_events() -> dict[str, EventSpec]:
    return {name: spec for name, spec in CATALOGUE.items() if SECURITY in spec.streams}


def test_every_security_event_is_classified_once() -> None:
    classes = [LIFECYCLE, ADMINISTRATION, ROUTINE, DENIALS, DETECTIONS, LOCKS, OUTAGES]
    assert sum(len(c) for c in classes) == len(CLASSIFIED), "an event is in two classes"
    unclassified = set(security_events()) - CLASSIFIED
    assert not unclassified, f"decide what these are (and so their severity): {unclassified}"
    assert not CLASSIFIED - set(CATALOGUE), "classified but not in the catalogue"


@pytest.mark.parametrize("name", sorted(security_events()))
def test_security_event_severity_follows_the_rule(name: str) -> None:
    severity = CATALOGUE[name].severity
    if name in INFO_CLASSES:
        assert severity == INFO, f"{name}: starts, stops, administration and sign-ins are INFO"
    elif name in DENIALS:
        assert severity == WARN, f"{name}: one denial or failure is WARN"
    else:
        assert severity.value >= ERROR.value, f"{name}: a detection rule or a lock is ERROR+"
    assert CATALOGUE[name].failure_severity is None  # the event's one level, either outcome


def test_structure_agrees_with_the_classes() -> None:
    """What the specs themselves say: a rule's evidence or a denial type is never INFO."""
    for name, spec in security_events().items():
        if "denied" in spec.type:
            assert name in DENIALS | DETECTIONS, name
        if "security_rule.name" in spec.required:
            assert name in DETECTIONS, name


@pytest.mark.parametrize(
    "name", sorted(n for n, s in CATALOGUE.items() if s.streams == (APPLICATION,))
)
def test_application_events_are_info_and_fail_louder(name: str) -> None:
    spec = CATALOGUE[name]
    assert spec.severity == INFO
    assert spec.failure_severity in (WARN, ERROR)


def readme_severities() -> dict[str, str]:
    """The README's severity table: event name -> severity."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Severity", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| (INFO|WARN|ERROR|CRITICAL) \|", section, re.M)
    return dict(rows)


def test_the_readme_table_is_the_catalogue() -> None:
    documented = readme_severities()
    actual = {name: SEVERITY_TEXT[spec.severity] for name, spec in security_events().items()}
    assert documented == actual
