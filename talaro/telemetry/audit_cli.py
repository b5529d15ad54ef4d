"""`flask --app talaro audit verify [PATHS]`: check the hash chains of the security stream.

Exit codes: 0 every chain whole; 1 a chain is broken (a record changed, replaced, removed,
inserted or reordered) or a line is unreadable; 2 usage error or no security record
found; 3 nothing broken, but a chain is not opened by sys_startup or not closed by
sys_shutdown (allow those with --allow-rotated / --allow-open).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from talaro.telemetry import audit_verify
from talaro.telemetry.audit import audit_key

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
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def verify_command(
    paths: tuple[Path, ...],
    allow_open: bool,
    allow_rotated: bool,
    key_file: Path | None,
    as_json: bool,
) -> None:
    """Verify the security records of PATHS (files or folders; default TALARO_TELEMETRY_DIR):
    every process's chain from sys_startup to sys_shutdown, record by record."""
    targets = list(paths) or [Path(current_app.config["TALARO_TELEMETRY_DIR"])]
    if key_file is not None:
        key = key_file.read_bytes().strip()
    else:
        key = audit_key(current_app.config.get("TALARO_AUDIT_KEY"))
    report = audit_verify.verify(targets, key, allow_open=allow_open, allow_rotated=allow_rotated)
    click.echo(audit_verify.as_json(report) if as_json else audit_verify.describe(report))
    raise SystemExit(report.exit_code())
