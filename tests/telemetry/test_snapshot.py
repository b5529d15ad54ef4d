"""The telemetry contract: a scripted session (bench/telemetry_snapshot.py, every catalogue
event) writes the same records as the committed snapshot, record for record: event names,
streams, severities, attributes and their stable values.

A change that alters records on purpose regenerates it with `make telemetry-snapshot`
and shows the difference in its review."""

from __future__ import annotations

from pathlib import Path

from bench import telemetry_snapshot as snapshot

GOLDEN = Path(__file__).with_name("snapshot.json")


def test_a_scripted_session_writes_the_records_of_the_committed_snapshot() -> None:
    records, surprises = snapshot.take_snapshot()
    assert not surprises, surprises
    # Events that need a fault, a flood or a second process (database_unavailable,
    # malicious_log_flood, sys_monitor_*, ...) are driven by their own tests instead.
    differences = snapshot.compare(snapshot.load(GOLDEN), records)
    assert not differences, "\n".join(
        [*differences, "intended? regenerate with `make telemetry-snapshot`"]
    )
