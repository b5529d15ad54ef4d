"""Load generator: drives Talaro's request mix at 127.0.0.1 for a fixed time.

Standard library only, run as its own process by `bench.telemetry_overhead`, from the
repository root:

    python -m bench.load --port 8000 --seed seed.json --out result.json \
        [--warmup 3] [--duration 15] [--processes 1] [--threads 8]

Each thread holds one keep-alive connection and picks the next request from a
weighted mix. Requests that start after the warm-up and finish before the end
are measured; the JSON result has counts by status class, latency percentiles
(overall and per request kind) and errors (5xx and connection failures).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.httpkit import Client, Response, resume_text

# Request kind -> weight (percent). Sign-in is Argon2-slow on purpose: keep it rare.
MIX: dict[str, int] = {
    "login": 2,
    "list_jobs": 25,
    "list_resumes": 23,
    "view_resume": 28,
    "upload_resume": 12,
    "schedule_interview": 10,
}
# Asked for by name only (--kinds), never part of the mix: the stock anchor's endpoint.
OWN_GROUP: dict[str, int] = {"stock_items": 100}
# Interviews go far into the future, one hour apart, so none ever overlaps another.
FIRST_SLOT = datetime(2040, 1, 2, 9, 0, tzinfo=UTC)
INTERVIEW_MINUTES = 30
FIRST_NAMES = ("Amara", "Bruno", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jun")
LAST_NAMES = ("Okafor", "Silva", "Li", "Berg", "Nwosu", "Haddad", "Petrovic", "Sato", "Costa")
START_DELAY_S = 0.5


@dataclass
class Plan:
    """What every worker thread needs: where, for how long, and with which data."""

    port: int
    seed: dict[str, Any]
    start: float  # time.monotonic() value, shared by all processes on this machine
    warmup: float
    duration: float
    threads: int
    processes: int
    timeout: float = 30.0
    kinds: tuple[str, ...] = ()  # only these request kinds of MIX (all when empty)

    @property
    def measure_from(self) -> float:
        return self.start + self.warmup

    @property
    def measure_until(self) -> float:
        return self.measure_from + self.duration


@dataclass
class Tally:
    """What one thread (or, merged, the whole run) saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx", "4xx", ...
    by_kind_status: Counter[str] = field(default_factory=Counter)  # "upload_resume 201"
    connection_errors: Counter[str] = field(default_factory=Counter)  # exception type
    completed_total: int = 0  # every finished request, warm-up included (for CPU/request)

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.statuses.update(other.statuses)
        self.by_kind_status.update(other.by_kind_status)
        self.connection_errors.update(other.connection_errors)
        self.completed_total += other.completed_total


class Worker:
    """One thread's state: its connection, its random stream and its unique counters."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan, self.index = plan, index  # index is unique across processes
        self.client = Client(plan.port, timeout=plan.timeout)
        self.rng = random.Random(index)
        self.serial = 0
        self.tally = Tally()
        self.actions: dict[str, Callable[[], Response]] = {
            "login": self.login,
            "list_jobs": self.list_jobs,
            "list_resumes": self.list_resumes,
            "view_resume": self.view_resume,
            "upload_resume": self.upload_resume,
            "schedule_interview": self.schedule_interview,
            "stock_items": self.stock_items,
        }
        known = {**MIX, **OWN_GROUP}
        mix = {kind: weight for kind, weight in known.items() if kind in (plan.kinds or MIX)}
        self.kinds, self.weights = list(mix), list(mix.values())

    # Request kinds ------------------------------------------------------------

    def _token(self, *roles: str) -> str:
        return self.plan.seed["tokens"][self.rng.choice(roles)]

    def login(self) -> Response:
        account = self.plan.seed["accounts"][self.rng.choice(list(self.plan.seed["accounts"]))]
        payload = {"email": account["email"], "password": account["password"]}
        return self.client.post_json("/api/auth/login", payload)

    def list_jobs(self) -> Response:
        return self.client.get(
            "/api/jobs", token=self._token("manager", "recruiter", "interviewer")
        )

    def list_resumes(self) -> Response:
        page = self.rng.randint(1, 2)
        path = f"/api/resumes?page={page}&per_page=20"
        return self.client.get(path, token=self._token("manager", "recruiter"))

    def view_resume(self) -> Response:
        resume_id = self.rng.choice(self.plan.seed["resume_ids"])
        return self.client.get(
            f"/api/resumes/{resume_id}", token=self._token("manager", "recruiter")
        )

    def upload_resume(self) -> Response:
        n = self._next_serial()
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        email = f"load-{self.index}-{n}@example.org"
        phone = f"+1 415 555 {(self.index * 7919 + n) % 10000:04d}"
        text = resume_text(name, email, phone, skills=f"Python, SQL, Docker, run {n}")
        return self.client.post_file(
            "/api/resumes",
            f"load-{self.index}-{n}.txt",
            text.encode(),
            token=self._token("manager", "recruiter"),
        )

    def schedule_interview(self) -> Response:
        slot = self._next_serial() * self.plan.threads * self.plan.processes + self.index
        payload = {
            "candidate_id": self.rng.choice(self.plan.seed["candidate_ids"]),
            "job_id": self.plan.seed["job_id"],
            "interviewer_id": self.plan.seed["interviewer_id"],
            "starts_at": (FIRST_SLOT + timedelta(hours=slot)).isoformat(),
            "duration_minutes": INTERVIEW_MINUTES,
            "round": "technical",
        }
        return self.client.post_json(
            "/api/interviews", payload, token=self._token("manager", "recruiter")
        )

    def stock_items(self) -> Response:
        return self.client.get("/items")  # bench/stock_app.py

    def _next_serial(self) -> int:
        self.serial += 1
        return self.serial

    # The loop -------------------------------------------------------------------

    def run(self) -> Tally:
        """Issue requests back to back until the end of the measured window."""
        _sleep_until(self.plan.start)
        try:
            while time.monotonic() < self.plan.measure_until:
                self.one_request(self.rng.choices(self.kinds, self.weights)[0])
        finally:
            self.client.close()
        return self.tally

    def one_request(self, kind: str) -> None:
        began = time.monotonic()
        try:
            status = self.actions[kind]().status
        except (OSError, http.client.HTTPException) as exc:
            self.tally.connection_errors[f"{kind} {type(exc).__name__}"] += 1
            time.sleep(0.01)  # a refused connection must not turn into a busy loop
            return
        finished = time.monotonic()
        self.tally.completed_total += 1
        if began >= self.plan.measure_from and finished <= self.plan.measure_until:
            self.tally.latencies.setdefault(kind, []).append(finished - began)
            self.tally.statuses[f"{status // 100}xx"] += 1
            self.tally.by_kind_status[f"{kind} {status}"] += 1


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def run_process(plan: Plan, process_index: int) -> Tally:
    """Run `plan.threads` workers in this process and merge what they saw."""
    workers = [Worker(plan, process_index * plan.threads + i) for i in range(plan.threads)]
    results: list[Tally] = []
    lock = threading.Lock()

    def target(worker: Worker) -> None:
        tally = worker.run()
        with lock:
            results.append(tally)

    threads = [threading.Thread(target=target, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    deadline = plan.measure_until + plan.timeout + 5
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    merged = Tally()
    for tally in results:
        merged.merge(tally)
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        merged.connection_errors["thread did not finish"] += hung
    return merged


def run(plan: Plan) -> Tally:
    """Every worker thread of every process, merged (one process: this one, no fork)."""
    if plan.processes == 1:
        return run_process(plan, 0)
    context = multiprocessing.get_context("fork")
    with context.Pool(plan.processes) as pool:
        pending = pool.starmap_async(run_process, [(plan, i) for i in range(plan.processes)])
        tallies = pending.get(timeout=plan.measure_until - time.monotonic() + plan.timeout + 30)
    merged = Tally()
    for tally in tallies:
        merged.merge(tally)
    return merged


# Summaries --------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(values: list[float], duration: float) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / duration, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
    }


def summarise(tally: Tally, plan: Plan, cpu_seconds: float) -> dict[str, Any]:
    everything = [value for values in tally.latencies.values() for value in values]
    server_errors = tally.statuses.get("5xx", 0)
    connection_errors = sum(tally.connection_errors.values())
    without_login = [
        v for kind, values in tally.latencies.items() if kind != "login" for v in values
    ]
    return {
        **latency_summary(everything, plan.duration),
        "p99_ms_excluding_login": latency_summary(without_login, plan.duration)["p99_ms"],
        "by_status_class": dict(sorted(tally.statuses.items())),
        "by_kind_and_status": dict(sorted(tally.by_kind_status.items())),
        "per_kind": {
            kind: latency_summary(values, plan.duration)
            for kind, values in sorted(tally.latencies.items())
        },
        "errors": server_errors + connection_errors,
        "server_errors_5xx": server_errors,
        "connection_errors": dict(tally.connection_errors),
        "completed_including_warmup": tally.completed_total,
        "generator_cpu_s": round(cpu_seconds, 2),
        "warmup_s": plan.warmup,
        "duration_s": plan.duration,
        "connections": plan.threads * plan.processes,
    }


def generator_cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=Path, required=True, help="JSON written by the seeding")
    parser.add_argument("--out", type=Path, required=True, help="where to write the result")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8, help="connections per process")
    kinds = ", ".join([*MIX, *OWN_GROUP])
    parser.add_argument("--kinds", default="", help=f"only these, comma-separated: {kinds}")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    plan = Plan(
        port=args.port,
        seed=json.loads(args.seed.read_text()),
        start=time.monotonic() + START_DELAY_S,
        warmup=args.warmup,
        duration=args.duration,
        threads=args.threads,
        processes=args.processes,
        kinds=tuple(kind for kind in args.kinds.split(",") if kind),
    )
    tally = run(plan)
    summary = summarise(tally, plan, generator_cpu_seconds())
    args.out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
