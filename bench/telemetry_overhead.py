"""What does telemetry cost? The same app, the same load, three set-ups, one invocation.

    .venv/bin/python -m bench.telemetry_overhead [--duration 15] [--warmup 3] [--rounds 2]
    (or `make bench`; every option also reads a BENCH_* environment variable)

Set-ups: `off` (OTEL_SDK_DISABLED=true), `files` (OTLP JSON Lines in a fresh
TALARO_TELEMETRY_DIR) and `otlp-dead` (OTLP http/protobuf to a 127.0.0.1 port that
refuses connections). For each run: a fresh SQLite database (`flask db upgrade` and
three users from the CLI, with the run's environment), gunicorn with two workers,
seeding over HTTP (API tokens, a job, resumes), then `bench.load` in its own
process for a warm-up and a measured window. The set-ups take turns in a rotating
order for several rounds so the machine's noise hits them alike; the summary is the
mean per set-up and the ratios to `off`. Results go to
bench-results/telemetry-overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.httpkit import PASSWORD, Client, expect, resume_text, session_token

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent  # the venv's bin: flask, gunicorn
RESULTS = REPO / "bench-results" / "telemetry-overhead.json"
GUNICORN_CONFIG = REPO / "gunicorn.conf.py"
SETUPS = ("off", "files", "otlp-dead")  # the default run
# Optional, by --setups: what the database spans alone cost (TALARO_TELEMETRY_DB_SPANS).
EXTRA_SETUPS = ("files-no-db-spans", "otlp-dead-no-db-spans")
BASELINE = "off"
GOAL = 0.90
NOISY_SPREAD = 0.10  # baseline throughput moving more than this between rounds: say so
SECRET_KEY = "talaro-benchmark-fixed-secret-key"
ACCOUNTS = {  # seed key -> (email, role)
    "manager": ("manager@bench.example.com", "HIRING_MANAGER"),
    "recruiter": ("recruiter@bench.example.com", "RECRUITER"),
    "interviewer": ("interviewer@bench.example.com", "INTERVIEWER"),
}
SEED_RESUMES = 40
CLI_TIMEOUT_S = 120
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


@dataclass(frozen=True)
class Settings:
    duration: float
    warmup: float
    rounds: int
    connections: int
    processes: int
    worker_class: str
    worker_threads: int
    setups: tuple[str, ...]
    out: Path
    kinds: tuple[str, ...] = ()  # one endpoint group (bench.load's kinds); all when empty


# Processes ------------------------------------------------------------------------


def stop_group(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the process group started with `process`, SIGKILL whatever is left."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"  process {process.pid} ignored SIGTERM for {timeout}s: SIGKILL", flush=True)
    if group_members(process.pid):
        _signal_group(process.pid, signal.SIGKILL)
    process.wait(5)


def group_members(pgid: int) -> list[int]:
    """Processes still in process group `pgid` (a leader's children may outlive it)."""
    return [pid for pid, fields in _all_stats() if int(fields[2]) == pgid]


def _signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def run_bounded(
    command: list[str], env: dict[str, str], timeout: float, log: Path, cwd: Path | None = None
) -> None:
    """Run `command` in its own process group, output to `log`; fail if it fails or hangs."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop_group(process)
    if code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(command[:4])}... exited {code}:\n{tail}")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def closed_port() -> Iterator[int]:
    """A port bound but never listening: connections to it are refused, and nobody else
    can take it while the benchmark runs."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children (gunicorn's master and workers)."""
    pids = [pid, *children(pid)]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in pids:
        fields = _stat_fields(each)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def children(pid: int) -> list[int]:
    return sorted(child for child, fields in _all_stats() if int(fields[1]) == pid)


def _all_stats() -> Iterator[tuple[int, list[str]]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            yield int(entry.name), fields


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state, ppid, pgrp, ..., utime (11), stime (12)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rpartition(")")[2].split()


# One set-up ------------------------------------------------------------------------


def app_environment(setup: str, folder: Path, dead_port: int) -> dict[str, str]:
    """The environment of every app process of one run (CLI and gunicorn alike)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "TALARO_")) and key not in {"DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite'}",
        SECRET_KEY=SECRET_KEY,
        TALARO_TELEMETRY_DIR=str(folder / "telemetry"),
        TALARO_ENV="benchmark",
        TALARO_RATELIMIT_ENABLED="false",  # one client address drives the whole load
    )
    base, _, variant = setup.partition("-no-")
    if base == "off":
        env["OTEL_SDK_DISABLED"] = "true"
    elif base == "otlp-dead":
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{dead_port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_TIMEOUT="2",
        )
    elif base != "files":
        raise ValueError(f"unknown set-up {setup!r}")
    if variant == "db-spans":
        env["TALARO_TELEMETRY_DB_SPANS"] = "false"
    return env


def prepare_database(env: dict[str, str], log: Path) -> None:
    """Migrate a fresh database and create the three staff accounts from the CLI."""
    flask = [str(BIN / "flask"), "--app", "talaro"]
    run_bounded([*flask, "db", "upgrade"], env, CLI_TIMEOUT_S, log)
    for email, role in ACCOUNTS.values():
        command = [*flask, "users", "create", email, "--role", role, "--password", PASSWORD]
        run_bounded(command, env, CLI_TIMEOUT_S, log)


class Gunicorn:
    """`gunicorn -w 2 -k gthread 'talaro:create_app()'` in its own process group, stopped
    on exit (a SIGTERM, then SIGKILL for anything left after STOP_TIMEOUT_S)."""

    def __init__(self, env: dict[str, str], settings: Settings, log: Path) -> None:
        self.port = free_port()
        self.command = [
            str(BIN / "gunicorn"),
            "--workers", "2",
            "--worker-class", settings.worker_class,
            "--threads", str(settings.worker_threads),
            "--bind", f"127.0.0.1:{self.port}",
            "--keep-alive", "30",
            "--timeout", "60",
            "--graceful-timeout", "15",
            "--log-level", "warning",
            "--error-logfile", str(log),
        ]  # fmt: skip
        if GUNICORN_CONFIG.exists():
            # The project's own settings (worker_exit flushes telemetry), made explicit
            # so they never depend on the current directory; the flags above win.
            self.command += ["--config", str(GUNICORN_CONFIG)]
        self.command.append("talaro:create_app()")
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.pid)

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def _wait_ready(self) -> None:
        """Until /healthz answers and both workers exist (bounded)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        client = Client(self.port, timeout=5)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
                try:
                    if client.get("/healthz").status == 200 and len(self.workers()) == 2:
                        return
                except OSError:
                    pass
                time.sleep(0.2)
        finally:
            client.close()
        raise RuntimeError(f"gunicorn not ready in {READY_TIMEOUT_S}s:\n{self.log_tail()}")


def seed_data(port: int) -> dict[str, Any]:
    """API tokens for the three users, a job, and SEED_RESUMES resumes (with candidates)."""
    tokens, users = {}, {}
    accounts = {key: {"email": email, "password": PASSWORD} for key, (email, _) in ACCOUNTS.items()}
    for key, (email, _role) in ACCOUNTS.items():
        users[key], tokens[key] = session_token(port, email, PASSWORD, "benchmark")
    manager = Client(port, token=tokens["manager"])
    recruiter = Client(port, token=tokens["recruiter"])
    try:
        job = {"title": "Backend Engineer", "department": "Engineering", "description": "Bench"}
        created = manager.post_json("/api/jobs", job)
        expect(created, 201, "create job")
        resumes = [_seed_resume(recruiter, n) for n in range(SEED_RESUMES)]
    finally:
        manager.close()
        recruiter.close()
    return {
        "tokens": tokens,
        "accounts": accounts,
        "job_id": created.json()["id"],
        "interviewer_id": users["interviewer"]["id"],
        "resume_ids": [resume["id"] for resume in resumes],
        "candidate_ids": sorted({resume["candidate_id"] for resume in resumes}),
    }


def _seed_resume(client: Client, n: int) -> dict[str, Any]:
    text = resume_text(f"Seed Candidate{n}", f"seed{n}@example.org", f"+1 415 555 {n:04d}")
    response = client.post_file("/api/resumes", f"seed-{n}.txt", text.encode())
    expect(response, 201, "seed resume")
    return response.json()  # type: ignore[no-any-return]


def run_load(port: int, seed: Path, out: Path, settings: Settings, log: Path) -> dict[str, Any]:
    """`python -m bench.load` in its own process group, bounded in time."""
    command = [
        sys.executable, "-m", "bench.load",
        "--port", str(port), "--seed", str(seed), "--out", str(out),
        "--warmup", str(settings.warmup), "--duration", str(settings.duration),
        "--processes", str(settings.processes),
        "--threads", str(max(1, settings.connections // settings.processes)),
        "--kinds", ",".join(settings.kinds),
    ]  # fmt: skip
    budget = settings.warmup + settings.duration + 120
    run_bounded(command, dict(os.environ), budget, log, cwd=REPO)
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def telemetry_status(port: int) -> dict[str, Any]:
    """One worker's view of its telemetry (outputs, drops, export failures) from /readyz."""
    client = Client(port, timeout=10)
    try:
        return client.get("/readyz").json().get("telemetry", {})  # type: ignore[no-any-return]
    except (OSError, ValueError) as exc:
        return {"error": repr(exc)}
    finally:
        client.close()


def file_sizes(folder: Path) -> dict[str, int]:
    """Bytes per file the run's telemetry wrote (rotated backups included)."""
    if not folder.exists():
        return {}
    return {path.name: path.stat().st_size for path in sorted(folder.rglob("*")) if path.is_file()}


def measure(setup: str, settings: Settings, dead_port: int) -> dict[str, Any]:
    """One run of one set-up, from an empty database to a stopped server."""
    folder = Path(tempfile.mkdtemp(prefix=f"talaro-bench-{setup}-"))
    try:
        env = app_environment(setup, folder, dead_port)
        started = time.monotonic()
        prepare_database(env, folder / "cli.log")
        with Gunicorn(env, settings, folder / "gunicorn.log") as server:
            seed = folder / "seed.json"
            seed.write_text(json.dumps(seed_data(server.port)))
            workers, cpu_before = server.workers(), cpu_seconds(server.pid)
            result = run_load(
                server.port, seed, folder / "load.json", settings, folder / "load.log"
            )
            cpu_used = cpu_seconds(server.pid) - cpu_before
            result["telemetry_status"] = telemetry_status(server.port)
            result["workers_replaced"] = server.workers() != workers
            log_tail = server.log_tail()
        result.update(
            setup=setup,
            server_cpu_s=round(cpu_used, 2),
            server_cpu_ms_per_request=round(
                1000 * cpu_used / max(1, result["completed_including_warmup"]), 3
            ),
            telemetry_bytes_by_file=file_sizes(folder / "telemetry"),
            wall_s=round(time.monotonic() - started, 1),
        )
        written = sum(result["telemetry_bytes_by_file"].values())
        result["telemetry_bytes_per_request"] = round(
            written / max(1, result["completed_including_warmup"])
        )
        if result["errors"] or result["workers_replaced"]:
            result["gunicorn_log_tail"] = log_tail
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The whole benchmark -------------------------------------------------------------


def rotating_order(setups: tuple[str, ...], rounds: int) -> list[tuple[int, str]]:
    """Round r starts r places further along: off files otlp | files otlp off | ..."""
    order = []
    for r in range(rounds):
        shift = r % len(setups)
        order += [(r + 1, s) for s in setups[shift:] + setups[:shift]]
    return order


def summarise(runs: list[dict[str, Any]], setups: tuple[str, ...]) -> dict[str, Any]:
    """Mean per set-up over the rounds, and each telemetry set-up's ratios to `off`."""
    per_setup: dict[str, dict[str, Any]] = {}
    for setup in setups:
        mine = [run for run in runs if run["setup"] == setup]
        if not mine:
            continue
        per_setup[setup] = {
            "rounds": len(mine),
            "requests_per_s": _mean(mine, "requests_per_s"),
            "p50_ms": _mean(mine, "p50_ms"),
            "p99_ms": _mean(mine, "p99_ms"),
            "p99_ms_excluding_login": _mean(mine, "p99_ms_excluding_login"),
            "server_cpu_ms_per_request": _mean(mine, "server_cpu_ms_per_request"),
            "errors": sum(run["errors"] for run in mine),
            "requests_per_s_each_round": [run["requests_per_s"] for run in mine],
            "p99_ms_each_round": [run["p99_ms"] for run in mine],
        }
    ratios = {}
    base = per_setup.get(BASELINE)
    for setup, numbers in per_setup.items():
        if base is None or setup == BASELINE:
            continue
        throughput = numbers["requests_per_s"] / base["requests_per_s"]
        ratios[f"{setup}/{BASELINE}"] = {
            "throughput": round(throughput, 3),
            "p99": round(numbers["p99_ms"] / base["p99_ms"], 3),
            "p50": round(numbers["p50_ms"] / base["p50_ms"], 3),
            "p99_excluding_login": round(
                numbers["p99_ms_excluding_login"] / base["p99_ms_excluding_login"], 3
            ),
            "server_cpu_per_request": round(
                numbers["server_cpu_ms_per_request"] / base["server_cpu_ms_per_request"], 3
            ),
            "throughput_goal_met": throughput >= GOAL,
            # What throughput would be if only the server's CPU per request mattered:
            # steadier than requests/s when other tenants come and go.
            "cpu_bound_throughput_estimate": round(
                base["server_cpu_ms_per_request"] / numbers["server_cpu_ms_per_request"], 3
            ),
            "throughput_each_round": _paired(runs, setup, "requests_per_s"),
            "p99_each_round": _paired(runs, setup, "p99_ms"),
        }
    return {
        "per_setup": per_setup,
        "ratios_to_off": ratios,
        "goal_throughput_ratio": GOAL,
        "baseline_spread": _spread(base["requests_per_s_each_round"]) if base else None,
    }


def _spread(values: list[float]) -> float:
    """(max - min) / mean: how much the same set-up moved between rounds."""
    return round((max(values) - min(values)) / statistics.fmean(values), 3)


def _paired(runs: list[dict[str, Any]], setup: str, key: str) -> list[float]:
    """`setup` over `off` within each round (same minutes, same machine load)."""
    ratios = []
    for round_no in sorted({run["round"] for run in runs}):
        mine = [r[key] for r in runs if r["round"] == round_no and r["setup"] == setup]
        base = [r[key] for r in runs if r["round"] == round_no and r["setup"] == BASELINE]
        if mine and base and base[0]:
            ratios.append(round(mine[0] / base[0], 3))
    return ratios


def _mean(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.fmean(run[key] for run in runs), 3)


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gunicorn": version("gunicorn"),
        "opentelemetry_sdk": version("opentelemetry-sdk"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "talaro_revision": git_revision(),
        "loadavg_at_start": os.getloadavg(),
    }


def git_revision() -> str:
    """The commit measured, `-dirty` when the work tree has changes (read-only git)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip()


def print_run(round_no: int, run: dict[str, Any]) -> None:
    print(
        f"  round {round_no} {run['setup']:>21}: {run['requests_per_s']:8.1f} req/s  "
        f"p50 {run['p50_ms']:7.2f} ms  p99 {run['p99_ms']:8.2f} ms  "
        f"errors {run['errors']}  server CPU {run['server_cpu_ms_per_request']:.2f} ms/req  "
        f"load gen CPU {run['generator_cpu_s']:.1f}s  ({run['wall_s']}s)",
        flush=True,
    )
    if run["errors"]:
        where = f"{run['by_status_class']}, connection errors {run['connection_errors']}"
        print(f"  !!! {run['errors']} ERRORS in {run['setup']}: {where}", flush=True)


def print_summary(summary: dict[str, Any]) -> None:
    print("\nMean per set-up (p99* leaves out sign-in, Argon2-slow by design)")
    print(
        f"  {'set-up':>21}  {'req/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  {'p99* ms':>7}  "
        f"{'errors':>6}  server CPU ms/req"
    )
    for setup, n in summary["per_setup"].items():
        print(
            f"  {setup:>21}  {n['requests_per_s']:7.1f}  {n['p50_ms']:7.2f}  {n['p99_ms']:7.2f}  "
            f"{n['p99_ms_excluding_login']:7.2f}  {n['errors']:6d}  "
            f"{n['server_cpu_ms_per_request']:.3f}"
        )
    print(f"\nRatios to {BASELINE} (goal: throughput >= {GOAL:.2f})")
    for name, r in summary["ratios_to_off"].items():
        verdict = _verdict(r["throughput"], r["cpu_bound_throughput_estimate"])
        print(
            f"  {name:>25}: throughput {r['throughput']:.3f}  p99 {r['p99']:.3f}  "
            f"p99* {r['p99_excluding_login']:.3f}  p50 {r['p50']:.3f}  "
            f"CPU/request {r['server_cpu_per_request']:.3f}  ({verdict})"
        )
        print(
            f"  {'':>25}  throughput per round {r['throughput_each_round']}, "
            f"from CPU/request {r['cpu_bound_throughput_estimate']:.3f}"
        )
    spread = summary["baseline_spread"]
    if spread is not None and spread > NOISY_SPREAD:
        print(
            f"\n!!! NOISY MACHINE: the {BASELINE} runs' throughput moved {spread:.0%} between "
            f"rounds; trust the CPU/request ratios more, or run more --rounds."
        )


def _verdict(throughput: float, from_cpu: float) -> str:
    if throughput >= GOAL and from_cpu >= GOAL:
        return "goal met"
    if throughput < GOAL and from_cpu < GOAL:
        return "GOAL NOT MET"
    return "UNCLEAR: req/s and CPU/request disagree, the machine was noisy"


def run_benchmark(settings: Settings) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    info = machine()
    print(
        f"Talaro telemetry overhead: {info['nproc']} CPUs ({info['cpu_model']}), "
        f"Python {info['python']}, gunicorn {settings.worker_class} 2 workers x "
        f"{settings.worker_threads} threads, {settings.connections} connections, "
        f"{settings.warmup:g}s warm-up + {settings.duration:g}s measured, "
        f"{settings.rounds} round(s)",
        flush=True,
    )
    with closed_port() as dead_port:
        for round_no, setup in rotating_order(settings.setups, settings.rounds):
            revision = git_revision()
            run = measure(setup, settings, dead_port)
            run.update(round=round_no, talaro_revision=revision)
            runs.append(run)
            print_run(round_no, run)
    info["loadavg_at_end"] = os.getloadavg()
    info["talaro_revisions_measured"] = sorted({run["talaro_revision"] for run in runs})
    return {
        "machine": info,
        "settings": {
            **settings.__dict__,
            "gunicorn_workers": 2,
            "gunicorn_config": str(GUNICORN_CONFIG) if GUNICORN_CONFIG.exists() else None,
            "mix_percent": _load_mix(),
            "kinds": list(settings.kinds),
            "command": " ".join([".venv/bin/python -m bench.telemetry_overhead", *sys.argv[1:]]),
        },
        "summary": summarise(runs, settings.setups),
        "runs": runs,
    }


def _load_mix() -> dict[str, int]:
    from bench.load import MIX

    return dict(MIX)


def parse_args(argv: list[str]) -> Settings:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(env("BENCH_DURATION", "15")))
    parser.add_argument("--warmup", type=float, default=float(env("BENCH_WARMUP", "3")))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", "2")))
    parser.add_argument(
        "--connections", type=int, default=int(env("BENCH_CONNECTIONS", "8")),
        help="keep-alive connections of the load generator (one thread each)",
    )  # fmt: skip
    parser.add_argument("--processes", type=int, default=int(env("BENCH_PROCESSES", "1")))
    parser.add_argument(
        "--worker-class", default=env("BENCH_WORKER_CLASS", "gthread"), choices=["gthread", "sync"]
    )
    parser.add_argument("--worker-threads", type=int, default=int(env("BENCH_WORKER_THREADS", "4")))
    parser.add_argument("--setups", default=env("BENCH_SETUPS", ",".join(SETUPS)))
    parser.add_argument("--out", type=Path, default=Path(env("BENCH_OUT", str(RESULTS))))
    parser.add_argument(
        "--kinds", default=env("BENCH_KINDS", ""),
        help="one endpoint group, e.g. view_resume or list_resumes (default: the whole mix)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    setups = tuple(s.strip() for s in args.setups.split(",") if s.strip())
    known = (*SETUPS, *EXTRA_SETUPS)
    unknown = set(setups) - set(known)
    if unknown:
        parser.error(f"unknown set-ups {sorted(unknown)}; choose from {known}")
    return Settings(
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        connections=args.connections,
        processes=args.processes,
        worker_class=args.worker_class,
        worker_threads=args.worker_threads if args.worker_class == "gthread" else 1,
        setups=setups,
        out=args.out,
        kinds=tuple(kind for kind in args.kinds.split(",") if kind),
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`: servers get stopped


def main(argv: list[str]) -> int:
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        results = run_benchmark(settings)
    except KeyboardInterrupt:
        print("\nInterrupted: every server and load generator was stopped; no results written.")
        return 130
    print_summary(results["summary"])
    revisions = results["machine"]["talaro_revisions_measured"]
    if len(revisions) > 1:
        print(f"\n!!! THE CODE CHANGED DURING THE RUN ({', '.join(revisions)}): the set-ups")
        print("    did not all measure the same app; run again when the tree is quiet.")
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nWrote {settings.out}")
    errors = sum(run["errors"] for run in results["runs"])
    if errors:
        print(f"\n!!! {errors} ERRORS (5xx or connection failures): see the runs in {settings.out}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
