"""What does telemetry cost? The same app, the same load, several set-ups, one invocation.

    .venv/bin/python -m bench.telemetry_overhead [--groups list,detail,upload,mix]
        [--duration 8] [--warmup 2] [--rounds 2]
    (or `make bench`; every option also reads a BENCH_* environment variable)

Set-ups: `off` (OTEL_SDK_DISABLED=true), `files` (OTLP JSON Lines in a fresh
TALARO_TELEMETRY_DIR), `otlp-dead` (OTLP http/protobuf to a 127.0.0.1 port that
refuses connections), and the anchor `stock-off` / `stock-files` (bench/stock_app.py:
the stock OpenTelemetry set-up on a one-query endpoint, served the same way). For each
run: a fresh SQLite database (`flask db upgrade` and three users from the CLI, with the
run's environment), gunicorn with the project's gunicorn.conf.py (its gevent worker, two
workers), seeding over HTTP (API tokens, a job, resumes), then, for each endpoint group
in turn, `bench.load` in its own process for a warm-up and a measured window, with the
server's CPU read around it. The set-ups take turns in a rotating order for several
rounds so the machine's noise hits them alike; the summary is, per endpoint group, the
mean per set-up, the ratios to `off` and the CPU per request telemetry adds. Results go
to bench-results/telemetry-overhead.json.
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
SETUPS = ("off", "files", "otlp-dead", "stock-off", "stock-files")  # the default run
# Optional, by --setups: what the database spans alone cost (TALARO_TELEMETRY_DB_SPANS).
EXTRA_SETUPS = ("files-no-db-spans", "otlp-dead-no-db-spans")
BASELINE = "off"
STOCK_BASELINE = "stock-off"  # the anchor's own `off`
# Endpoint group -> bench.load's request kinds (all of its mix when empty).
GROUPS = {
    "list": ("list_resumes",),
    "detail": ("view_resume",),
    "upload": ("upload_resume",),
    "jobs": ("list_jobs",),
    "interview": ("schedule_interview",),
    "mix": (),
}
DEFAULT_GROUPS = ("list", "detail", "upload", "mix")
STOCK_GROUP = "stock"  # the stock app's one endpoint (bench.load's `stock_items`)
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
    worker_class: str  # `config`: gunicorn.conf.py's own (gevent); or gthread, sync
    worker_threads: int
    setups: tuple[str, ...]
    out: Path
    groups: tuple[str, ...] = DEFAULT_GROUPS
    kinds: tuple[str, ...] = ()  # bench.load's kinds: one group of its own (`kinds`)

    def group_kinds(self) -> dict[str, tuple[str, ...]]:
        """The endpoint groups of a Talaro set-up, in order, with their request kinds."""
        if self.kinds:
            return {"kinds": self.kinds}
        return {group: GROUPS[group] for group in self.groups}


def is_stock(setup: str) -> bool:
    return setup.startswith("stock")


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
    if is_stock(setup):  # bench/stock_app.py's `wsgi()` reads these
        env.update(STOCK_DIR=str(folder), STOCK_TELEMETRY=str(setup != STOCK_BASELINE).lower())
        return env
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
    """`gunicorn -c gunicorn.conf.py -w 2 'talaro:create_app()'` (the project's worker
    class, gevent, unless --worker-class says otherwise) in its own process group, stopped
    on exit (a SIGTERM, then SIGKILL for anything left after STOP_TIMEOUT_S)."""

    def __init__(
        self, env: dict[str, str], settings: Settings, log: Path, app: str = "talaro:create_app()"
    ) -> None:
        self.port = free_port()
        self.command = [
            str(BIN / "gunicorn"),
            "--workers", "2",
            "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "60",
            "--graceful-timeout", "15",
            "--log-level", "warning",
            "--error-logfile", str(log),
        ]  # fmt: skip
        if settings.worker_class != "config":  # a comparison: gthread or sync
            self.command += ["--worker-class", settings.worker_class]
            self.command += ["--threads", str(settings.worker_threads)]
        if GUNICORN_CONFIG.exists():
            # The project's own settings (its gevent worker, keep-alive, worker_exit
            # flushing telemetry), made explicit so they never depend on the current
            # directory; the flags above win.
            self.command += ["--config", str(GUNICORN_CONFIG)]
        self.command.append(app)
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


def run_load(
    port: int, seed: Path, out: Path, settings: Settings, log: Path, kinds: tuple[str, ...]
) -> dict[str, Any]:
    """`python -m bench.load` in its own process group, bounded in time."""
    command = [
        sys.executable, "-m", "bench.load",
        "--port", str(port), "--seed", str(seed), "--out", str(out),
        "--warmup", str(settings.warmup), "--duration", str(settings.duration),
        "--processes", str(settings.processes),
        "--threads", str(max(1, settings.connections // settings.processes)),
        "--kinds", ",".join(kinds),
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


def measure(setup: str, settings: Settings, dead_port: int, round_no: int) -> list[dict[str, Any]]:
    """One run of one set-up, from an empty database to a stopped server: one result per
    endpoint group, the groups' loads one after the other (each round starts one group
    further on), the server's CPU read around each."""
    folder = Path(tempfile.mkdtemp(prefix=f"talaro-bench-{setup}-"))
    try:
        env = app_environment(setup, folder, dead_port)
        started = time.monotonic()
        seed = folder / "seed.json"
        if is_stock(setup):
            groups = {STOCK_GROUP: ("stock_items",)}
            app = "bench.stock_app:wsgi()"
        else:
            prepare_database(env, folder / "cli.log")
            groups = settings.group_kinds()
            app = "talaro:create_app()"
        names = list(groups)
        shift = (round_no - 1) % len(names)
        order = names[shift:] + names[:shift]
        results = []
        with Gunicorn(env, settings, folder / "gunicorn.log", app) as server:
            seed.write_text(json.dumps({} if is_stock(setup) else seed_data(server.port)))
            workers = server.workers()
            for group in order:
                cpu_before = cpu_seconds(server.pid)
                result = run_load(
                    server.port, seed, folder / f"load-{group}.json", settings,
                    folder / "load.log", groups[group],
                )  # fmt: skip
                cpu_used = cpu_seconds(server.pid) - cpu_before
                result.update(
                    setup=setup,
                    group=group,
                    server_cpu_s=round(cpu_used, 2),
                    server_cpu_ms_per_request=round(
                        1000 * cpu_used / max(1, result["completed_including_warmup"]), 3
                    ),
                )
                results.append(result)
            status = telemetry_status(server.port) if not is_stock(setup) else {}
            replaced = server.workers() != workers
            log_tail = server.log_tail()
        sizes = file_sizes(folder / "telemetry")
        completed = sum(result["completed_including_warmup"] for result in results)
        for result in results:
            result.update(
                telemetry_status=status,
                workers_replaced=replaced,
                telemetry_bytes_by_file=sizes,  # the whole run's, every group's
                telemetry_bytes_per_request=round(sum(sizes.values()) / max(1, completed)),
                wall_s=round(time.monotonic() - started, 1),
            )
            if result["errors"] or replaced:
                result["gunicorn_log_tail"] = log_tail
        return results
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
    """Per endpoint group: the mean per set-up over the rounds, and each telemetry set-up's
    ratios to its `off` (`stock-off` for the anchor) with the CPU per request it adds."""
    groups = list(dict.fromkeys(run["group"] for run in runs))
    return {
        "groups": {group: _summarise_group(runs, setups, group) for group in groups},
        "goal_throughput_ratio": GOAL,
    }


def _summarise_group(runs: list[dict[str, Any]], setups: tuple[str, ...], group: str) -> dict:
    runs = [run for run in runs if run["group"] == group]
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
    baseline = STOCK_BASELINE if group == STOCK_GROUP else BASELINE
    ratios = {}
    base = per_setup.get(baseline)
    for setup, numbers in per_setup.items():
        if base is None or setup == baseline:
            continue
        throughput = numbers["requests_per_s"] / base["requests_per_s"]
        ratios[f"{setup}/{baseline}"] = {
            "throughput": round(throughput, 3),
            "p99": round(numbers["p99_ms"] / base["p99_ms"], 3),
            "p50": round(numbers["p50_ms"] / base["p50_ms"], 3),
            "p99_excluding_login": round(
                numbers["p99_ms_excluding_login"] / base["p99_ms_excluding_login"], 3
            ),
            "server_cpu_per_request": round(
                numbers["server_cpu_ms_per_request"] / base["server_cpu_ms_per_request"], 3
            ),
            "server_cpu_ms_added_per_request": round(
                numbers["server_cpu_ms_per_request"] - base["server_cpu_ms_per_request"], 3
            ),
            "throughput_goal_met": throughput >= GOAL,
            # What throughput would be if only the server's CPU per request mattered:
            # steadier than requests/s when other tenants come and go.
            "cpu_bound_throughput_estimate": round(
                base["server_cpu_ms_per_request"] / numbers["server_cpu_ms_per_request"], 3
            ),
            "throughput_each_round": _paired(runs, setup, baseline, "requests_per_s"),
            "p99_each_round": _paired(runs, setup, baseline, "p99_ms"),
        }
    return {
        "per_setup": per_setup,
        "ratios_to_off": ratios,
        "baseline_spread": _spread(base["requests_per_s_each_round"]) if base else None,
    }


def _spread(values: list[float]) -> float:
    """(max - min) / mean: how much the same set-up moved between rounds."""
    return round((max(values) - min(values)) / statistics.fmean(values), 3)


def _paired(runs: list[dict[str, Any]], setup: str, baseline: str, key: str) -> list[float]:
    """`setup` over its `off` within each round (same minutes, same machine load)."""
    ratios = []
    for round_no in sorted({run["round"] for run in runs}):
        mine = [r[key] for r in runs if r["round"] == round_no and r["setup"] == setup]
        base = [r[key] for r in runs if r["round"] == round_no and r["setup"] == baseline]
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
        f"  round {round_no} {run['setup']:>13} {run['group']:>7}: "
        f"{run['requests_per_s']:7.1f} req/s  p50 {run['p50_ms']:6.2f} ms  "
        f"p99 {run['p99_ms']:7.2f} ms  errors {run['errors']}  "
        f"server CPU {run['server_cpu_ms_per_request']:.2f} ms/req  "
        f"load avg {run['loadavg']:.1f}  ({run['wall_s']}s)",
        flush=True,
    )
    if run["errors"]:
        where = f"{run['by_status_class']}, connection errors {run['connection_errors']}"
        print(f"  !!! {run['errors']} ERRORS in {run['setup']}: {where}", flush=True)


def print_summary(summary: dict[str, Any]) -> None:
    print(f"\nPer endpoint group: throughput kept and server CPU added (goal: >= {GOAL:.2f})")
    print(
        f"  {'group':>7} {'set-up':>13}  {'req/s':>7}  {'CPU ms/req':>10}  {'kept':>5}  "
        f"{'per round':>14}  {'CPU x':>5}  {'+ms/req':>7}  verdict"
    )
    for group, found in summary["groups"].items():
        baseline = STOCK_BASELINE if group == STOCK_GROUP else BASELINE
        for setup, n in found["per_setup"].items():
            r = found["ratios_to_off"].get(f"{setup}/{baseline}")
            line = (
                f"  {group:>7} {setup:>13}  {n['requests_per_s']:7.1f}  "
                f"{n['server_cpu_ms_per_request']:10.3f}"
            )
            if r is not None:
                rounds = ",".join(f"{x:.2f}" for x in r["throughput_each_round"])
                verdict = _verdict(r["throughput"], r["cpu_bound_throughput_estimate"])
                line += (
                    f"  {r['throughput']:5.3f}  {rounds:>14}  {r['server_cpu_per_request']:5.2f}  "
                    f"{r['server_cpu_ms_added_per_request']:+7.3f}  {verdict}"
                )
            print(line)
        spread = found["baseline_spread"]
        if spread is not None and spread > NOISY_SPREAD:
            print(
                f"  !!! NOISY MACHINE: {group}'s {baseline} throughput moved {spread:.0%} "
                f"between rounds; trust the CPU/request ratios more, or run more --rounds."
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
        f"Python {info['python']}, gunicorn "
        + (
            "gunicorn.conf.py's worker (gevent), 2 workers, "
            if settings.worker_class == "config"
            else f"{settings.worker_class} 2 workers x {settings.worker_threads} threads, "
        )
        + f"{settings.connections} connections, groups {','.join(settings.group_kinds())}, "
        f"{settings.warmup:g}s warm-up + {settings.duration:g}s measured per group, "
        f"{settings.rounds} round(s)",
        flush=True,
    )
    with closed_port() as dead_port:
        for round_no, setup in rotating_order(settings.setups, settings.rounds):
            revision = git_revision()
            for run in measure(setup, settings, dead_port, round_no):
                run.update(round=round_no, talaro_revision=revision, loadavg=os.getloadavg()[0])
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
            "groups": {group: list(kinds) for group, kinds in settings.group_kinds().items()},
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
    parser.add_argument(
        "--duration", type=float, default=float(env("BENCH_DURATION", "8")),
        help="seconds measured, per endpoint group",
    )  # fmt: skip
    parser.add_argument("--warmup", type=float, default=float(env("BENCH_WARMUP", "2")))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", "2")))
    parser.add_argument(
        "--connections", type=int, default=int(env("BENCH_CONNECTIONS", "8")),
        help="keep-alive connections of the load generator (one thread each)",
    )  # fmt: skip
    parser.add_argument("--processes", type=int, default=int(env("BENCH_PROCESSES", "1")))
    parser.add_argument(
        "--worker-class", default=env("BENCH_WORKER_CLASS", "config"),
        choices=["config", "gthread", "sync"],
        help="config: gunicorn.conf.py's own (gevent); gthread or sync to compare",
    )  # fmt: skip
    parser.add_argument("--worker-threads", type=int, default=int(env("BENCH_WORKER_THREADS", "4")))
    parser.add_argument("--setups", default=env("BENCH_SETUPS", ",".join(SETUPS)))
    parser.add_argument("--out", type=Path, default=Path(env("BENCH_OUT", str(RESULTS))))
    parser.add_argument(
        "--groups", default=env("BENCH_GROUPS", ",".join(DEFAULT_GROUPS)),
        help=f"endpoint groups, each measured in turn: {', '.join(GROUPS)}",
    )  # fmt: skip
    parser.add_argument(
        "--kinds", default=env("BENCH_KINDS", ""),
        help="instead of --groups, one group of bench.load's kinds, e.g. view_resume",
    )  # fmt: skip
    args = parser.parse_args(argv)
    setups = tuple(s.strip() for s in args.setups.split(",") if s.strip())
    known = (*SETUPS, *EXTRA_SETUPS)
    unknown = set(setups) - set(known)
    if unknown:
        parser.error(f"unknown set-ups {sorted(unknown)}; choose from {known}")
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    if set(groups) - set(GROUPS):
        parser.error(f"unknown groups {sorted(set(groups) - set(GROUPS))}; choose from {GROUPS}")
    return Settings(
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        connections=args.connections,
        processes=args.processes,
        worker_class=args.worker_class,
        worker_threads=args.worker_threads if args.worker_class == "gthread" else 1,
        groups=groups,
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
