"""`flask --app talaro audit verify [PATHS]`: check the hash chains of the security stream,
and hold them to the database's checkpoints. `flask --app talaro audit prune`: remove the
rotated security files older than TALARO_SECURITY_RETENTION_DAYS, and record it.

Exit codes of verify: 0 every chain whole; 1 a chain is broken (a record changed,
replaced, removed, inserted or reordered; a chain missing, cut or rotated away, a record
diverged from its checkpoint) or a line is unreadable; 2 usage error, no security record
found, or the checkpoints could not be read; 3 nothing broken, but a chain is not opened
by sys_startup or not closed by sys_shutdown (allow those with --allow-rotated /
--allow-open).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from talaro.telemetry import audit_verify, retention
from talaro.telemetry.audit import audit_key
from talaro.telemetry.checkpoints import STORE, Checkpoint, CheckpointStore
from talaro.telemetry.runtime import EXTENSION

audit_cli = AppGroup("audit", help="The tamper-evident security stream.")


@audit_cli.command("verify")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--allow-open",
    is_flag=True,
    help="Chains without sys_shutdown pass (processes still running).",
)
@click.option(
    "--allow-rotated",
    is_flag=True,
    help="Chains whose sys_startup was rotated away pass.",
)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the HMAC key from this file instead of TALARO_AUDIT_KEY.",
)
@click.option(
    "--no-checkpoints",
    is_flag=True,
    help="Check the files alone, not against the database's checkpoints.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def verify_command(
    paths: tuple[Path, ...],
    allow_open: bool,
    allow_rotated: bool,
    key_file: Path | None,
    no_checkpoints: bool,
    as_json: bool,
) -> None:
    """Verify the security records of PATHS (files or folders; default TALARO_TELEMETRY_DIR):
    every process's chain from sys_startup to sys_shutdown, record by record."""
    targets = list(paths) or [Path(current_app.config["TALARO_TELEMETRY_DIR"])]
    if key_file is not None:
        key = key_file.read_bytes().strip()
    else:
        key = audit_key(current_app.config.get("TALARO_AUDIT_KEY"))
    # Read before the files: a running process writes a record before its checkpoint.
    checkpoints = None if no_checkpoints else _read_checkpoints()
    report = audit_verify.verify(
        targets, key, allow_open=allow_open, allow_rotated=allow_rotated, checkpoints=checkpoints
    )
    click.echo(audit_verify.as_json(report) if as_json else audit_verify.describe(report))
    raise SystemExit(report.exit_code())


def _store() -> CheckpointStore | None:
    return current_app.extensions.get(STORE)


def _read_checkpoints() -> list[Checkpoint] | None:
    store = _store()
    if store is None:
        return None
    try:
        return store.read()
    except Exception as exc:
        click.echo(
            f"error: cannot read the audit checkpoints from the database ({type(exc).__name__}); "
            "run `flask db upgrade`, or pass --no-checkpoints to check the files alone",
            err=True,
        )
        raise SystemExit(audit_verify.NOTHING) from exc
    finally:
        store.close()


@audit_cli.command("prune")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    help="Keep this many days (default TALARO_SECURITY_RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
def prune_command(days: float | None, dry_run: bool) -> None:
    """Remove the rotated security files of TALARO_TELEMETRY_DIR last written more than the
    retention's days ago. Noted in the database first (so `audit verify` knows retention
    removed them), then recorded as a `sensitive_delete` security event."""
    days = days or current_app.config.get("TALARO_SECURITY_RETENTION_DAYS") or None
    if days is None:
        raise click.UsageError("no retention: set TALARO_SECURITY_RETENTION_DAYS or pass --days")
    folder = Path(current_app.config["TALARO_TELEMETRY_DIR"])
    if dry_run:
        for path in retention.expired(folder, days):
            click.echo(f"would remove {path}")
        return
    store = _store()
    if store is None:
        raise click.ClickException("no checkpoint store: nothing can be removed unrecorded")
    runtime = current_app.extensions.get(EXTENSION)
    instance = runtime.providers.instance_id if runtime is not None else ""
    key = audit_key(current_app.config.get("TALARO_AUDIT_KEY"))
    try:
        removed = retention.prune(folder, days, store, key, instance)
    except Exception as exc:
        raise click.ClickException(f"nothing removed: {type(exc).__name__}: {exc}") from exc
    finally:
        store.close()
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(removed)} rotated security files removed (older than {days:g} days)")
