"""CPU per request, telemetry off against on, per endpoint group, in ONE process.

    .venv/bin/python -m bench.telemetry_cpu [--requests 300] [--rounds 3] [--setups off,files]
    .venv/bin/python -m bench.telemetry_cpu --profile files --requests 1000   # cProfile, top items

A loaded, shared machine makes throughput runs noisy; process CPU time per request is the
steadier measure. Each set-up is its own app (SQLite in a temporary folder, the same seed:
three staff accounts with API tokens, a job, resumes) served through the Flask test client
in this process, so `time.process_time()` counts the request threads and telemetry's export
threads alike; every measured group ends with a flush, so the records its requests made are
encoded and written inside the window. Set-ups and groups take turns in a rotating order;
the figure per set-up and group is the median of the rounds.

Groups: the request kinds of `bench.load` (list, detail, upload, interview, jobs) and `mix`,
their weighted mix without sign-in (Argon2 is the same in every set-up and only noise here).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.httpkit import PASSWORD, resume_text

SECRET_KEY = "talaro-benchmark-fixed-secret-key"
ACCOUNTS = {
    "manager": ("manager@bench.example.com", "HIRING_MANAGER"),
    "recruiter": ("recruiter@bench.example.com", "RECRUITER"),
    "interviewer": ("interviewer@bench.example.com", "INTERVIEWER"),
}
SEED_RESUMES = 40
FIRST_SLOT = datetime(2040, 1, 1, 9, 0, tzinfo=UTC)
# bench.load's MIX without sign-in, by group.
MIX = {"detail": 28, "jobs": 25, "list": 23, "upload": 12, "interview": 10}
GROUPS = ("list", "detail", "upload", "interview", "jobs", "mix", "stock")


def setup_config(setup: str, folder: Path, **overrides: Any) -> dict[str, Any]:
    """The app's settings for one set-up: `off`, `files`, `files-no-db-spans`,
    `files-db-min-<ms>`, `files-batch-<n>` and `files-before` (see `variant`), `otlp-dead`,
    `otlp-dead-before`."""
    config: dict[str, Any] = {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
        "TALARO_RATELIMIT_ENABLED": False,
        "TALARO_TELEMETRY_CHECK_EVENTS": False,
        "TALARO_TELEMETRY_ENABLED": setup != "off",
        "TALARO_TELEMETRY_DIR": str(folder / "telemetry"),
        "TALARO_METRIC_EXPORT_INTERVAL_MS": 60_000,
        "TALARO_ENVIRONMENT": "benchmark",
    }
    if setup.startswith("otlp-dead"):  # OTLP/HTTP to a port where nothing listens
        config["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"
        config["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
        os.environ.setdefault("OTEL_EXPORTER_OTLP_TIMEOUT", "2")
    config.update(overrides)
    if setup.endswith("-no-db-spans"):
        config["TALARO_TELEMETRY_DB_SPANS"] = False
    if "-db-min-" in setup:  # files-db-min-2: spans for statements of 2 ms or more
        config["TALARO_TELEMETRY_DB_SPAN_MIN_MS"] = float(setup.rpartition("-")[2])
    return config


@contextmanager
def variant(setup: str) -> Iterator[None]:
    """`files-before`: the files as before issue #14, in the same process: the first-party
    OTLP JSON file exporters and the instrumentation's own EngineTracer. `files-batch-512`:
    export batches of 512 (OTEL_BLRP_MAX_EXPORT_BATCH_SIZE while the app is built)."""
    if "-batch-" in setup:
        saved_batch = os.environ.get("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")
        os.environ["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = setup.rpartition("-")[2]
        try:
            yield
        finally:
            os.environ.pop("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")
            if saved_batch is not None:
                os.environ["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = saved_batch
        return
    if not setup.endswith("-before"):
        yield
        return
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    import talaro.telemetry as package
    from talaro.telemetry import runtime

    saved = (runtime.JsonLinesLogExporter, runtime.JsonLinesSpanExporter, package.StatementSpans)
    runtime.JsonLinesLogExporter, runtime.JsonLinesSpanExporter = FileLogExporter, FileSpanExporter
    package.StatementSpans = lambda tracer, engine, usage, min_ms: EngineTracer(
        tracer, engine, usage
    )
    try:
        yield
    finally:
        runtime.JsonLinesLogExporter, runtime.JsonLinesSpanExporter, package.StatementSpans = saved


class Bench:
    """One app of one set-up, seeded, and one callable per request kind."""

    def __init__(self, setup: str, folder: Path, **overrides: Any) -> None:
        from talaro import create_app  # after the environment is settled
        from talaro.extensions import db

        self.setup = setup
        self.folder = folder
        with variant(setup):
            self.app = create_app(setup_config(setup, folder, **overrides))
        with self.app.app_context():
            db.create_all()  # the first checkpoint, of sys_startup, waits for a retry
        runner = self.app.test_cli_runner()
        for email, role in ACCOUNTS.values():
            result = runner.invoke(
                args=["users", "create", email, "--role", role, "--password", PASSWORD]
            )
            assert result.exit_code == 0, result.output
        self.client = self.app.test_client()
        self.tokens: dict[str, str] = {}
        self.users: dict[str, Any] = {}
        for key, (email, _) in ACCOUNTS.items():
            client = self.app.test_client()
            login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.data
            created = client.post(
                "/api/auth/tokens",
                json={"name": "bench"},
                headers={"X-CSRFToken": login.json["csrf_token"]},
            )
            assert created.status_code == 201, created.data
            self.tokens[key], self.users[key] = created.json["token"], login.json["user"]
        job = self.call(
            "POST", "/api/jobs", "manager", json={"title": "Backend Engineer", "description": "B"}
        )
        self.job_id = job.json["id"]
        seeded = [self._upload(f"seed{n}") for n in range(SEED_RESUMES)]
        self.resume_ids = [r.json["id"] for r in seeded]
        self.candidate_ids = sorted({r.json["candidate_id"] for r in seeded})
        self.rng = random.Random(1)
        self.serial = 0
        self.kinds: dict[str, Callable[[], Any]] = {
            "list": self.list_resumes,
            "detail": self.view_resume,
            "upload": self.upload,
            "interview": self.interview,
            "jobs": self.list_jobs,
        }

    def call(self, method: str, path: str, who: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = self.client.open(path, method=method, headers=headers, **kw)
        assert response.status_code < 400, (path, response.status_code, response.data[:300])
        return response

    def _upload(self, tag: str) -> Any:
        self.serial = getattr(self, "serial", 0) + 1
        n = self.serial
        text = resume_text(f"Bench {tag}", f"{tag}-{n}@example.org", f"+1 415 555 {n % 10000:04d}")
        data = {"file": (io.BytesIO(text.encode()), f"{tag}-{n}.txt")}
        return self.call("POST", "/api/resumes", "recruiter", data=data)

    def list_resumes(self) -> Any:
        return self.call(
            "GET", f"/api/resumes?page={self.rng.randint(1, 2)}&per_page=20", "manager"
        )

    def view_resume(self) -> Any:
        return self.call("GET", f"/api/resumes/{self.rng.choice(self.resume_ids)}", "recruiter")

    def upload(self) -> Any:
        return self._upload("load")

    def interview(self) -> Any:
        self.serial += 1
        payload = {
            "candidate_id": self.rng.choice(self.candidate_ids),
            "job_id": self.job_id,
            "interviewer_id": self.users["interviewer"]["id"],
            "starts_at": (FIRST_SLOT + timedelta(hours=self.serial)).isoformat(),
            "duration_minutes": 45,
            "round": "technical",
        }
        return self.call("POST", "/api/interviews", "manager", json=payload)

    def list_jobs(self) -> Any:
        return self.call("GET", "/api/jobs", "interviewer")

    def requests(self, group: str, count: int) -> Iterator[Callable[[], Any]]:
        if group != "mix":
            for _ in range(count):
                yield self.kinds[group]
            return
        kinds, weights = list(MIX), list(MIX.values())
        for kind in random.Random(count).choices(kinds, weights, k=count):
            yield self.kinds[kind]

    def flush(self) -> None:
        from talaro import telemetry

        telemetry.flush(self.app)

    def measure(self, group: str, count: int) -> float:
        """CPU seconds per request of `count` requests of `group`, the flush included."""
        self.flush()
        started = time.process_time()
        for request in self.requests(group, count):
            request()
        self.flush()
        return (time.process_time() - started) / count

    def close(self) -> None:
        from talaro import telemetry

        telemetry.shutdown(self.app)

    def telemetry_bytes(self) -> int:
        folder = self.folder / "telemetry"
        return sum(p.stat().st_size for p in folder.glob("*.jsonl*")) if folder.exists() else 0


@contextmanager
def benches(setups: list[str], **overrides: Any) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="talaro-bench-cpu-") as root:
        made = {}
        try:
            for setup in setups:
                folder = Path(root) / setup
                folder.mkdir()
                made[setup] = (
                    StockBench(setup, folder)
                    if setup.startswith("stock")
                    else Bench(setup, folder, **overrides)
                )
            yield made
        finally:
            for bench in made.values():
                bench.close()


def run(setups: list[str], groups: list[str], requests: int, rounds: int) -> dict[str, Any]:
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    cpu: dict[str, dict[str, list[float]]] = {
        s: {g: [] for g in groups if _measures(s, g)} for s in setups
    }
    load = [os.getloadavg()[0]]
    with benches(setups) as made:
        for setup, bench in made.items():  # warm-up: caches, first-use imports
            for group in cpu[setup]:
                bench.measure(group, max(20, requests // 10))
        for round_no in range(rounds):
            order = setups[round_no % len(setups) :] + setups[: round_no % len(setups)]
            for group in groups:
                for setup in order:
                    if group in cpu[setup]:
                        cpu[setup][group].append(made[setup].measure(group, requests))
            load.append(os.getloadavg()[0])
            print(f"  round {round_no + 1}/{rounds} done, load {load[-1]:.1f}", flush=True)
    median = {
        s: {g: statistics.median(v) for g, v in groups_.items()} for s, groups_ in cpu.items()
    }
    return {"cpu_s": cpu, "median_s": median, "load": load}


def _measures(setup: str, group: str) -> bool:
    """The stock anchor app has one endpoint (group `stock`); Talaro's set-ups the rest."""
    return setup.startswith("stock") == (group == "stock")


def report(result: dict[str, Any], baseline: str = "off") -> str:
    median = result["median_s"]
    setups = list(median)
    groups = list(dict.fromkeys(g for groups_ in median.values() for g in groups_))
    lines = [
        f"CPU per request, µs (median of rounds); load average {min(result['load']):.1f}"
        f"-{max(result['load']):.1f} on {os.cpu_count()} CPUs",
        f"{'group':10}" + "".join(f"{s:>22}" for s in setups),
    ]
    for group in groups:
        base_setup = "stock-off" if group == "stock" else baseline
        base = median.get(base_setup, {}).get(group)
        cells = []
        for setup in setups:
            if group not in median[setup]:
                cells.append("")
                continue
            value = median[setup][group] * 1e6
            if base and setup != base_setup:
                ratio, added = median[setup][group] / base, (median[setup][group] - base) * 1e6
                cells.append(f"{value:8.0f} x{ratio:4.2f} (+{added:4.0f})")
            else:
                cells.append(f"{value:8.0f}")
        lines.append(f"{group:10}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


class StockBench:
    """The stock set-up's app (bench/stock_app.py) behind `Bench`'s interface."""

    def __init__(self, setup: str, folder: Path) -> None:
        from bench.stock_app import create_stock_app

        self.app, self.flush = create_stock_app(folder, telemetry=setup != "stock-off")
        self.client = self.app.test_client()

    def measure(self, group: str, count: int) -> float:
        self.flush()
        started = time.process_time()
        for _ in range(count):
            assert self.client.get("/items").status_code == 200
        self.flush()
        return (time.process_time() - started) / count

    def close(self) -> None:
        self.flush()


def profile(setup: str, group: str, requests: int, top: int, out: Path | None = None) -> str:
    """cProfile of `requests` requests of `group` with the exports run on this thread (the
    batch processors' flush), so encoding shows up beside the request work."""
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    # Keep the export threads asleep (no full batch, no timer): the flush below exports
    # on this thread, which the profiler sees.
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = os.environ["OTEL_BLRP_SCHEDULE_DELAY"] = "3600000"
    os.environ["OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"] = "100000"
    with benches([setup], TALARO_TELEMETRY_QUEUE_SIZE=100_000) as made:
        bench = made[setup]
        bench.measure(group, 50)
        profiler = cProfile.Profile(time.thread_time)  # CPU, not the machine's queueing
        profiler.enable()
        for i, request in enumerate(bench.requests(group, requests)):
            request()
            if i % 100 == 99:
                bench.flush()
        bench.flush()
        profiler.disable()
    if out is not None:  # for pstats / snakeviz: callers, callees
        profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("cumulative").print_stats("opentelemetry|telemetry|json", top)
    return text.getvalue()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per group and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--setups", default="off,files")
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--profile", metavar="SETUP", help="profile one set-up instead")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--out", type=Path, help="write the result (or the profile) here")
    args = parser.parse_args(argv)
    groups = args.groups.split(",")
    if args.profile:
        print(profile(args.profile, groups[0], args.requests, args.top, args.out))
        return 0
    result = run(args.setups.split(","), groups, args.requests, args.rounds)
    print(report(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
