"""`flask --app talaro logs`: the telemetry log files read back, filtered, in time order.

Examples::

    flask --app talaro logs --event resume_upload --outcome failure
    flask --app talaro logs --user hm@example.com --since 1d --format table
    flask --app talaro logs --event http_request --slower-than 1s | jq .\"url.path\"

PATHS are files or folders (default: the app's ``TALARO_TELEMETRY_DIR``); a folder is
read for both streams' files, rotated ones included, whether the service or the
collector wrote them (reader.py). Output is one flat JSON object per line, or a table;
broken lines are reported on stderr and skipped. Nothing matching is not an error.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import click
import orjson
from flask import current_app
from flask.cli import with_appcontext

from talaro.identity import account_key
from talaro.telemetry import reader

TABLE_COLUMNS = (
    "time",
    "stream",
    "severity",
    "event",
    "outcome",
    "user",
    "address",
    "status",
    "duration",
    "route",
    "reason",
)
TABLE_SAMPLE = 500  # rows read before the column widths are fixed
Row = dict[str, Any]


def _first(*keys: str) -> Callable[[Row], Any]:
    return lambda record: next((record[k] for k in keys if record.get(k) is not None), None)


# Short names usable as table columns and in --fields, next to any record key.
ALIASES: dict[str, Callable[[Row], Any]] = {
    "outcome": _first("event.outcome"),
    # Who acted: the staff account, else the operating-system user of a command.
    "user": _first("user.email", "user.id", "user.hash", "process.owner"),
    "address": _first("client.address"),
    "status": _first(reader.STATUS_KEY),
    "duration": _first(reader.DURATION_KEY),
    "route": _first("http.route", "url.path"),
}


class ParsedValue(click.ParamType):
    """An option value checked by one of reader's ``parse_*`` functions."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name, self.parse = name, parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _parse_fields(text: str) -> tuple[str, ...]:
    fields = tuple(field.strip() for field in text.split(",") if field.strip())
    if not fields:
        raise ValueError("give at least one field, e.g. time,event,user")
    return fields


@click.command("logs")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--stream", type=click.Choice(reader.STREAMS), help="Only this stream.")
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="NAME",
    type=ParsedValue("event", reader.parse_event),
    help="Only this event (repeatable); old names like PERMISSION_DENIED work too.",
)
@click.option("--outcome", type=click.Choice(["success", "failure"]), help="event.outcome.")
@click.option(
    "--user",
    metavar="ID|EMAIL|HASH",
    help="Matches user.id, user.email, user.hash or process.owner (a command's OS user).",
)
@click.option(
    "--address",
    "addresses",
    multiple=True,
    metavar="IP",
    help="client.address (repeatable).",
)
@click.option(
    "--min-severity",
    metavar="LEVEL",
    type=ParsedValue("severity", reader.parse_severity),
    help="INFO, WARN, ERROR, CRITICAL, or a number 1-24.",
)
@click.option(
    "--since",
    metavar="TIME",
    type=ParsedValue("time", reader.parse_time),
    help="ISO 8601 (UTC unless stated) or a time ago: 15m, 2h, 1d.",
)
@click.option("--until", metavar="TIME", type=ParsedValue("time", reader.parse_time))
@click.option("--trace-id", metavar="HEX", type=ParsedValue("trace id", reader.parse_trace_id))
@click.option(
    "--slower-than",
    metavar="DURATION",
    type=ParsedValue("duration", reader.parse_duration),
    help="http.server.request.duration above this, e.g. 1s, 250ms.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="CODE",
    type=ParsedValue("status", reader.parse_status),
    help="HTTP status code (404) or class (4xx, 5xx); repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="One flat JSON object per line, or aligned columns.",
)
@click.option(
    "--fields",
    metavar="A,B,C",
    type=ParsedValue("fields", _parse_fields),
    help=f"Keys or columns to show (columns: {', '.join(TABLE_COLUMNS)}).",
)
@with_appcontext
def logs_command(
    paths: tuple[Path, ...],
    stream: str | None,
    events: tuple[str, ...],
    user: str | None,
    output_format: str,
    fields: tuple[str, ...] | None,
    **options: Any,
) -> None:
    """Print the telemetry log records of PATHS (files or folders) that match, oldest first."""
    where = reader.Filter(
        streams=(stream,) if stream else (),
        events=events,
        users=_identities(user),
        **options,
    )
    if where.since and where.until and where.since > where.until:
        raise click.UsageError("--since is later than --until")
    files = _files(paths, where.streams or reader.STREAMS)
    records = reader.read_records(files, where, warn=_warn)
    # Reading makes no reference cycles (records are plain dicts, freed once printed), so
    # the collector would find nothing, walking again and again the app's objects and the
    # records held for time order (4096 a file): a tenth of an event query's time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if output_format == "table":
            _write(_table(records, fields or TABLE_COLUMNS))
        else:
            _write(_json_lines(records, fields))
    finally:
        if collecting:
            gc.enable()


def _identities(user: str | None) -> tuple[str, ...]:
    """The user as given, plus the keyed hash of an email (failed logins record only that)."""
    if not user:
        return ()
    return (user, account_key(user)) if "@" in user else (user,)


def _files(paths: Sequence[Path], streams: Sequence[str]) -> list[Path]:
    targets = list(paths) or [Path(current_app.config["TALARO_TELEMETRY_DIR"])]
    files = reader.expand_paths(targets, streams)
    if not files:
        _warn(f"no telemetry log files in {', '.join(str(p) for p in targets)}")
    return files


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def value(record: Row, name: str) -> Any:
    """A record key's value, or a column alias's (outcome, user, address, status, ...)."""
    if name in record:
        return record[name]
    alias = ALIASES.get(name)
    return alias(record) if alias else None


def _json_lines(records: Iterable[Row], fields: Sequence[str] | None) -> Iterator[str]:
    for record in records:
        shown = {name: value(record, name) for name in fields} if fields else record
        yield json_line(shown)


def json_line(record: Row) -> str:
    """One record as JSON text in ASCII: every non-ASCII character escaped (``\\u202e``),
    so no logged value can drive the terminal or hide text.

    orjson (5 times faster than json.dumps) when its text is that already: printable
    ASCII, and no NaN or infinity, which it would write as null; else json.dumps, which
    escapes them. The two differ only in spaces (orjson writes none after ``,`` and
    ``:``) and in how some floats are spelt (``1e-05``, ``1e-5``): the same JSON."""
    try:
        text = orjson.dumps(record, default=str, option=_AS_JSON_DUMPS)
    except TypeError:  # an integer over 64 bits, a key that is not a string
        return json.dumps(record, default=str)
    if not _PRINTABLE_ASCII.fullmatch(text) or (b"null" in text and _has_odd_float(record)):
        return json.dumps(record, default=str)
    return text.decode("ascii")


# What json.dumps(default=str) would give as str(): datetimes, dataclasses, subclasses.
_AS_JSON_DUMPS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_PRINTABLE_ASCII = re.compile(rb"[ -~]*")  # orjson escapes C0 controls; DEL and non-ASCII


def _has_odd_float(value: Any) -> bool:
    """A NaN or an infinity anywhere in `value` (orjson writes them as null)."""
    if type(value) is float:
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_odd_float(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_odd_float(item) for item in value)
    return False


def _table(records: Iterable[Row], columns: Sequence[str]) -> Iterator[str]:
    """Aligned columns; widths are fixed from the header and the first rows."""
    rows = ([_cell(column, value(record, column)) for column in columns] for record in records)
    sample = list(islice(rows, TABLE_SAMPLE))
    header = [column.upper() for column in columns]
    widths = [max(len(cell) for cell in cells) for cells in zip(header, *sample, strict=True)]
    for row in (header, *sample):
        yield _aligned(row, widths)
    for row in rows:
        yield _aligned(row, widths)


def _aligned(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=False)]
    return "  ".join([*padded, cells[-1]])


def _cell(column: str, content: Any) -> str:
    if content is None or content == "":
        return "-"
    if column == "duration" and isinstance(content, int | float):
        text = f"{content * 1000:.1f}ms" if content < 1 else f"{content:.3f}s"
    elif isinstance(content, list):
        text = ",".join(str(item) for item in content)
    else:
        text = str(content)
    # Never let a logged value (a user agent, a path) drive the terminal, or reorder or hide
    # text: control characters, bidi controls (U+202A-U+202E, U+2066-U+2069), zero-width
    # characters, line and paragraph separators (U+2028/2029), every character Python
    # does not call printable, is shown as its escape, as the JSON output shows it.
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _write(lines: Iterable[str]) -> None:
    """Each line as it is found, through the stream's own buffer (by line on a terminal,
    by block into a pipe): click.echo would flush, one write(2) per record."""
    out = sys.stdout
    try:
        for line in lines:
            out.write(line)
            out.write("\n")
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
