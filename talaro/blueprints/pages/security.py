"""Security events (ADMIN): the security stream in the browser, newest first, with
filters, each record expandable, and the audit chains' state on request.

Read from the files through telemetry's reader, as `flask logs` reads them: the embedded
files of TALARO_TELEMETRY_DIR, or a collector's output folder (TALARO_SECURITY_EVENTS_DIR).
Each page reads newest first (`reader.read_records_newest_first`: the newest files first,
each from its end) and stops once it has its records and one more, so the first page of a
large folder costs a few blocks; how many match in all is known, and shown, only when the
reading got to the oldest record.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from flask import current_app, render_template, request
from flask_login import login_required

from talaro.blueprints.pages.forms import page_number
from talaro.blueprints.pages.views import bp
from talaro.identity import account_key
from talaro.permissions import Action, require
from talaro.telemetry import audit_verify, reader
from talaro.telemetry.audit import audit_key
from talaro.telemetry.catalogue import CATALOGUE, SECURITY

PER_PAGE = 50
FILTERS = ("event", "outcome", "user", "address", "since", "until")
WARNINGS_SHOWN = 5
# Shown in the row itself; everything else is in the expandable details.
USER_KEYS = ("user.email", "user.hash", "user.id", "process.owner")
AUDIT_CACHE = "talaro.security_page.audit"  # app.extensions: (files' signature, report)


@dataclass(frozen=True)
class EventPage:
    records: list[dict[str, Any]]  # newest first
    total: int | None  # records matching the filters, when all were read
    warnings: list[str]  # broken lines, the first few
    more: bool = False  # older matching records exist


def security_events_folder() -> Path:
    folder = current_app.config.get("TALARO_SECURITY_EVENTS_DIR")
    return Path(folder or current_app.config["TALARO_TELEMETRY_DIR"])


def security_files() -> list[Path]:
    return reader.expand_paths([security_events_folder()], (SECURITY,))


def parse_filters(values: dict[str, str]) -> tuple[reader.Filter, dict[str, list[str]]]:
    """The reader's filter from the form's values, and a message per value it could not use."""
    errors: dict[str, list[str]] = {}
    options: dict[str, Any] = {"streams": (SECURITY,)}
    if values["event"]:
        if (
            CATALOGUE.get(values["event"]) is None
            or SECURITY not in CATALOGUE[values["event"]].streams
        ):
            errors["event"] = ["Choose an event from the list."]
        else:
            options["events"] = (values["event"],)
    if values["outcome"] in ("success", "failure"):
        options["outcome"] = values["outcome"]
    if user := values["user"]:
        # A failed sign-in records only the email's keyed hash: an email matches it too.
        options["users"] = (user, account_key(user)) if "@" in user else (user,)
    if values["address"]:
        options["addresses"] = (values["address"],)
    for name in ("since", "until"):
        if values[name]:
            try:
                options[name] = reader.parse_time(values[name])
            except ValueError:
                errors[name] = ["Enter a time like 2026-11-26T10:00Z, or a time ago like 2h."]
    if "since" in options and "until" in options and options["since"] > options["until"]:
        errors["until"] = ["The end is before the start."]
    return reader.Filter(**options), errors


def newest_first(files: list[Path], where: reader.Filter, page: int, per_page: int) -> EventPage:
    """One page of the matching records, newest first; how many match in all when the
    reading, which stops one record past the page, got to the end."""
    warnings: list[str] = []
    wanted = page * per_page
    found = list(
        islice(reader.read_records_newest_first(files, where, warn=warnings.append), wanted + 1)
    )
    more = len(found) > wanted
    shown = found[(page - 1) * per_page : wanted]
    return EventPage(shown, None if more else len(found), warnings[:WARNINGS_SHOWN], more)


def audit_report(files: list[Path]) -> audit_verify.Report:
    """The chains' state (running processes' chains are open, so that is allowed); the
    last report is kept while the files are unchanged."""
    signature = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    cached = current_app.extensions.get(AUDIT_CACHE)
    if cached is not None and cached[0] == signature:
        return cached[1]  # type: ignore[no-any-return]
    key = audit_key(current_app.config.get("TALARO_AUDIT_KEY"))
    report = audit_verify.verify(files, key, allow_open=True)
    current_app.extensions[AUDIT_CACHE] = (signature, report)
    return report


def trace_link(trace_id: str | None) -> str | None:
    """The trace viewer's page of a trace: `TALARO_TRACE_VIEWER_URL` + `/trace/<id>`
    (Jaeger's), or the setting with `{trace_id}` filled in."""
    viewer = current_app.config.get("TALARO_TRACE_VIEWER_URL")
    if not viewer or not trace_id:
        return None
    if "{trace_id}" in viewer:
        return str(viewer).replace("{trace_id}", trace_id)
    return f"{str(viewer).rstrip('/')}/trace/{trace_id}"


def actor(record: dict[str, Any]) -> str:
    return next((str(record[key]) for key in USER_KEYS if record.get(key)), "")


@bp.route("/security")
@login_required
@require(Action.SECURITY_EVENTS_VIEW)
def security_events() -> Any:
    """The security stream, filtered by event, outcome, user, address and time."""
    values = {name: request.args.get(name, "").strip() for name in FILTERS}
    where, errors = parse_filters(values)
    page = page_number()
    files = security_files()
    events = newest_first(files, where, page, PER_PAGE) if not errors else EventPage([], 0, [])
    report = audit_report(files) if request.args.get("verify") and files else None
    return render_template(
        "security/events.html",
        values=values,
        errors=errors,
        filters={name: value for name, value in values.items() if value},
        events=events,
        page=page,
        per_page=PER_PAGE,
        folder=security_events_folder(),
        files=files,
        report=report,
        event_options=[
            (name, name) for name in sorted(CATALOGUE) if SECURITY in CATALOGUE[name].streams
        ],
        outcome_options=[("success", "Success"), ("failure", "Failure")],
        trace_link=trace_link,
        actor=actor,
    )
