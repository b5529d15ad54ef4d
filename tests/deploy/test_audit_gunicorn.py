"""gunicorn with three threaded workers sharing the embedded files under concurrent load,
stopped gracefully: every worker's security chain verifies whole, across rotation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.deploy.test_gunicorn import WORKERS, gunicorn
from tests.telemetry import otlp_json

REQUESTS = 60


def failed_logins(base: str) -> None:
    """REQUESTS failed sign-ins, twelve at a time. Each writes a security record
    (`authn_login_fail`, or `excess_rate_limit_exceeded` once a limit answers 429), and
    password hashing makes each take a while, so the load spreads over the workers."""

    def attempt(index: int) -> int:
        request = urllib.request.Request(
            f"{base}/api/auth/login",
            data=json.dumps({"email": f"audit-{index}@example.com", "password": "no"}).encode(),
            headers={"Content-Type": "application/json", "User-Agent": f"audit-{index}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, range(REQUESTS)))
    assert set(statuses) <= {401, 429}


def test_every_worker_chain_is_whole_after_a_graceful_stop(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    settings = {
        "TALARO_TELEMETRY_DIR": str(logs),
        "TALARO_TELEMETRY_MAX_BYTES": str(16 * 1024),
        "TALARO_TELEMETRY_BACKUPS": "100",
        "GUNICORN_THREADS": "2",
        "OTEL_BLRP_SCHEDULE_DELAY": "20",  # batches from the workers interleave in the files
    }
    with gunicorn(tmp_path, **settings) as base:
        failed_logins(base)

    files = [p for p in sorted(logs.glob("security*.jsonl")) if p.suffix == ".jsonl"]
    assert len(files) > 2, "the trail was rotated while the workers wrote it"
    records = [r for path in files for r in otlp_json.log_records(path)]
    # Failures, and the rate limit's and the detection rules' records once they kick in.
    agent = "user_agent.original"
    refused = [r for r in records if r.attributes.get(agent, "").startswith("audit-")]
    assert len(refused) >= 20
    # Every worker opens its chain; the load lands on several of them at once.
    assert len({r.resource["service.instance.id"] for r in records}) == WORKERS
    assert len({r.resource["service.instance.id"] for r in refused}) >= 2

    # The same database: verify holds every chain to the checkpoints the workers wrote.
    database = f"sqlite:///{tmp_path}/gunicorn.sqlite"
    environment = {
        **os.environ,
        "SECRET_KEY": "gunicorn-test",
        "DATABASE_URL": database,
        **settings,
    }
    verify = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "talaro", "audit", "verify", str(logs)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    lines = verify.stdout.splitlines()
    chains = [line for line in lines if line.startswith("chain ")]
    assert len(chains) == WORKERS and all(line.endswith(": whole") for line in chains)
    assert (
        lines[-2].startswith("checkpoints: ")
        and lines[-2] != "checkpoints: 0 read from the database"
    )
    assert lines[-1] == (
        f"result: {WORKERS} chains: {WORKERS} whole, 0 broken, 0 incomplete; 0 unreadable lines"
    )
