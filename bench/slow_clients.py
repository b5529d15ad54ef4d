"""Slow and idle clients: how much normal throughput does each serving set-up keep?

    .venv/bin/python -m bench.slow_clients [--rounds 2] [--duration 10] [--candidates ...]

For each candidate server, in one run of that server: the request mix of `bench.load`
(8 keep-alive connections) for a measured window with no other client, then while 50
hostile connections are open, then alone again:

- `slow`: send a request line, then one header line a second, never finishing (slowloris);
- `idle`: one complete request, then nothing on the kept-alive connection;
- `silent`: connect and send nothing.

A connection the server closes is opened again at once (the attacker keeps the pressure).
The ratio is throughput with the hostile connections over the mean of the two windows
without, on the same server within a minute. Candidates take turns in a rotating order
over the rounds. Results go to bench-results/slow-clients.json.

Candidates: `served` (gunicorn.conf.py exactly as `make run` serves), `gthread` (2 workers x
4 threads), `gevent` (2 workers), `nginx+gthread` (nginx buffering requests in front of
the gthread set-up; needs /usr/sbin/nginx), `waitress` (one process, 8 threads).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.httpkit import Client
from bench.telemetry_overhead import (
    BIN,
    GUNICORN_CONFIG,
    REPO,
    Settings,
    app_environment,
    cpu_seconds,
    free_port,
    git_revision,
    machine,
    prepare_database,
    rotating_order,
    run_load,
    seed_data,
    stop_group,
)

RESULTS = REPO / "bench-results" / "slow-clients.json"
CANDIDATES = ("served", "gthread", "gevent", "nginx+gthread", "waitress")
DEFAULT_CANDIDATES = ("gthread", "gevent", "nginx+gthread", "waitress")
GOAL = 0.90
READY_TIMEOUT_S = 60
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLOW_LINE_INTERVAL_S = 1.0
PHASES = ("before", "hostile", "after")
HOSTILE_SETTLE_S = 2.0  # let the hostile connections take hold before the load starts


# Hostile connections -----------------------------------------------------------------


@dataclass
class Hostile:
    """One hostile connection: what it does, its socket, and when it next sends."""

    kind: str  # slow | idle | silent
    sock: socket.socket | None = None
    lines_sent: int = 0
    next_send: float = 0.0
    opened_at: float = 0.0


@dataclass
class HostileStats:
    opened: Counter[str] = field(default_factory=Counter)
    closed_by_server: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    held_s: dict[str, list[float]] = field(default_factory=dict)  # how long before a close

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": dict(self.opened),
            "closed_by_server": dict(self.closed_by_server),
            "refused_or_reset": dict(self.refused),
            "median_held_s": {
                kind: round(statistics.median(values), 1)
                for kind, values in self.held_s.items()
                if values
            },
        }


class HostileClients(threading.Thread):
    """Keeps `counts` hostile connections open to 127.0.0.1:port from one thread."""

    def __init__(self, port: int, counts: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.conns = [Hostile(kind) for kind, n in counts.items() for _ in range(n)]
        self.stats = HostileStats()
        self.selector = selectors.DefaultSelector()
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        try:
            for conn in self.conns:
                self._open(conn)
            while not self._halt.is_set():
                for key, _ in self.selector.select(0.05):
                    self._readable(key.data)
                now = time.monotonic()
                for conn in self.conns:
                    if conn.sock is None:
                        self._open(conn)
                    elif conn.kind == "slow" and now >= conn.next_send:
                        self._send(conn, f"X-Slow-{conn.lines_sent}: {'a' * 20}\r\n".encode())
                        conn.lines_sent += 1
                        conn.next_send = now + SLOW_LINE_INTERVAL_S
        finally:
            for conn in self.conns:
                self._close(conn)
            self.selector.close()

    def _open(self, conn: Hostile) -> None:
        sock = socket.socket()
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            self.stats.refused[conn.kind] += 1
            time.sleep(0.01)
            return
        sock.setblocking(False)
        conn.sock, conn.lines_sent, conn.opened_at = sock, 0, time.monotonic()
        self.stats.opened[conn.kind] += 1
        self.selector.register(sock, selectors.EVENT_READ, conn)
        if conn.kind == "slow":
            self._send(conn, b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            conn.next_send = time.monotonic() + SLOW_LINE_INTERVAL_S
        elif conn.kind == "idle":
            self._send(conn, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

    def _send(self, conn: Hostile, data: bytes) -> None:
        assert conn.sock is not None
        try:
            conn.sock.send(data)
        except OSError:
            self._lost(conn)

    def _readable(self, conn: Hostile) -> None:
        """The idle connection's one response, or the server closing (EOF or an error page)."""
        assert conn.sock is not None
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(conn)
        elif conn.kind != "idle" or data.count(b"HTTP/1.") > 1:
            self._lost(conn)  # an error answer (400, 408, 431): the server gave up on it

    def _lost(self, conn: Hostile) -> None:
        self.stats.closed_by_server[conn.kind] += 1
        self.stats.held_s.setdefault(conn.kind, []).append(time.monotonic() - conn.opened_at)
        self._close(conn)

    def _close(self, conn: Hostile) -> None:
        if conn.sock is not None:
            self.selector.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None


# Candidate servers ---------------------------------------------------------------------


class Server:
    """One candidate, started in its own process group(s); `port` is where clients go."""

    def __init__(self, candidate: str, env: dict[str, str], folder: Path) -> None:
        self.candidate, self.env, self.folder = candidate, dict(env), folder
        self.port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.log = folder / "server.log"

    def _gunicorn(self, port: int, *flags: str) -> list[str]:
        return [
            str(BIN / "gunicorn"), "--config", str(GUNICORN_CONFIG),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--error-logfile", str(self.log), *flags, "talaro:create_app()",
        ]  # fmt: skip

    def commands(self) -> list[list[str]]:
        gthread = ("--workers", "2", "--worker-class", "gthread", "--threads", "4")
        if self.candidate == "served":
            return [self._gunicorn(self.port)]
        if self.candidate == "gthread":
            return [self._gunicorn(self.port, *gthread)]
        if self.candidate == "gevent":
            return [self._gunicorn(self.port, "--workers", "2", "--worker-class", "gevent")]
        if self.candidate == "waitress":
            return [
                [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{self.port}", "--threads=8",
                 "--call", "talaro:create_app"]
            ]  # fmt: skip
        if self.candidate == "nginx+gthread":
            upstream = free_port()
            self.env["TALARO_TRUSTED_PROXIES"] = "1"
            config = self.folder / "nginx.conf"
            config.write_text(nginx_config(self.folder, self.port, upstream))
            return [
                self._gunicorn(upstream, *gthread),
                [NGINX, "-c", str(config), "-p", str(self.folder), "-e", str(self.log)],
            ]
        raise ValueError(f"unknown candidate {self.candidate!r}")

    def __enter__(self) -> Server:
        with self.log.open("ab") as out:
            for command in self.commands():
                self.processes.append(
                    subprocess.Popen(
                        command, env=self.env, stdout=out, stderr=out, start_new_session=True
                    )
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
        for process in reversed(self.processes):
            stop_group(process)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        client = Client(self.port, timeout=5)
        try:
            while time.monotonic() < deadline:
                for process in self.processes:
                    if process.poll() is not None:
                        raise RuntimeError(f"{self.candidate} exited early:\n{self.log_tail()}")
                try:
                    if client.get("/healthz").status == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.2)
        finally:
            client.close()
        raise RuntimeError(f"{self.candidate} not ready in {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""


def nginx_config(folder: Path, port: int, upstream: int) -> str:
    """nginx reading whole requests (headers within 10 s, bodies buffered) before handing
    them to gunicorn over kept-alive upstream connections."""
    return f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_header_timeout 10s;
    client_body_timeout 10s;
    keepalive_timeout 15s;
    client_max_body_size 250m;
    upstream talaro {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://talaro;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering on;
            proxy_buffering on;
        }}
    }}
}}
"""


# One candidate, both phases ------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    rounds: int
    connections: int
    hostile: dict[str, int]
    candidates: tuple[str, ...]
    telemetry: str
    out: Path


def measure(candidate: str, options: Options) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"talaro-slow-{candidate.replace('+', '-')}-"))
    os.chmod(folder, 0o755)  # nginx's workers may run as another user
    settings = Settings(
        duration=options.duration, warmup=options.warmup, rounds=1,
        connections=options.connections, processes=1, worker_class="", worker_threads=0,
        setups=(), out=options.out,
    )  # fmt: skip
    try:
        env = app_environment(options.telemetry, folder, 0)
        prepare_database(env, folder / "cli.log")
        with Server(candidate, env, folder) as server:
            seed = folder / "seed.json"
            seed.write_text(json.dumps(seed_data(server.port)))
            phases: dict[str, Any] = {}
            for phase in PHASES:
                hostile = HostileClients(server.port, options.hostile if phase == "hostile" else {})
                hostile.start()
                time.sleep(HOSTILE_SETTLE_S if phase == "hostile" else 0)
                cpu_before = server.cpu_seconds()
                try:
                    result = run_load(
                        server.port, seed, folder / f"{phase}.json", settings, folder / "load.log"
                    )
                finally:
                    hostile.stop()
                result["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 2)
                result["hostile"] = hostile.stats.as_dict()
                phases[phase] = _brief(result)
            log_tail = server.log_tail(1500)
        # The normal load alone, before and after: drift over the run hits both sides.
        base = statistics.fmean(phases[p]["requests_per_s"] for p in ("before", "after"))
        hostile_rps = phases["hostile"]["requests_per_s"]
        return {
            "candidate": candidate,
            "phases": phases,
            "baseline_requests_per_s": round(base, 1),
            "ratio": round(hostile_rps / base, 3) if base else 0.0,
            "server_log_tail": log_tail if any(p["errors"] for p in phases.values()) else "",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "requests_per_s", "requests", "p50_ms", "p99_ms", "p99_ms_excluding_login", "errors",
        "by_status_class", "connection_errors", "server_cpu_s", "hostile",
    )  # fmt: skip
    return {key: result[key] for key in keep if key in result}


# The whole benchmark -------------------------------------------------------------------


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    reference = [r["baseline_requests_per_s"] for r in runs if r["candidate"] == "gthread"]
    for candidate in dict.fromkeys(run["candidate"] for run in runs):
        mine = [run for run in runs if run["candidate"] == candidate]
        base = statistics.fmean(r["baseline_requests_per_s"] for r in mine)
        under = statistics.fmean(r["phases"]["hostile"]["requests_per_s"] for r in mine)
        summary[candidate] = {
            "baseline_requests_per_s": round(base, 1),
            "hostile_requests_per_s": round(under, 1),
            "ratio": round(under / base, 3) if base else 0.0,
            "ratio_each_round": [r["ratio"] for r in mine],
            "baseline_vs_gthread": round(base / statistics.fmean(reference), 3)
            if reference
            else None,
            "hostile_p99_ms": round(
                statistics.fmean(r["phases"]["hostile"]["p99_ms_excluding_login"] for r in mine), 1
            ),
            "errors": sum(p["errors"] for r in mine for p in r["phases"].values()),
            "goal_met": base > 0 and under / base >= GOAL,
        }
    return summary


def print_run(round_no: int, run: dict[str, Any]) -> None:
    b, h, a = (run["phases"][phase] for phase in PHASES)
    closed = h["hostile"]["closed_by_server"]
    print(
        f"  round {round_no} {run['candidate']:>14}: {b['requests_per_s']:7.1f} / "
        f"{h['requests_per_s']:7.1f} / {a['requests_per_s']:7.1f} req/s before / hostile / "
        f"after (ratio {run['ratio']:.2f})  p99* {b['p99_ms_excluding_login']:.0f} / "
        f"{h['p99_ms_excluding_login']:.0f} ms  errors {b['errors']}/{h['errors']}/"
        f"{a['errors']}  closed by server {closed}",
        flush=True,
    )


def print_summary(summary: dict[str, Any]) -> None:
    print(f"\n{'candidate':>14}  {'req/s':>7}  {'hostile':>7}  ratio  rounds  vs gthread  errors")
    for name, s in summary.items():
        print(
            f"{name:>14}  {s['baseline_requests_per_s']:7.1f}  {s['hostile_requests_per_s']:7.1f}  "
            f"{s['ratio']:.3f}  {s['ratio_each_round']}  {s['baseline_vs_gthread']}  {s['errors']}"
        )


def parse_args(argv: list[str]) -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(env("BENCH_DURATION", "10")))
    parser.add_argument("--warmup", type=float, default=float(env("BENCH_WARMUP", "3")))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", "2")))
    parser.add_argument("--connections", type=int, default=8, help="normal keep-alive clients")
    parser.add_argument("--slow", type=int, default=20, help="slowloris connections")
    parser.add_argument("--idle", type=int, default=15, help="idle kept-alive connections")
    parser.add_argument("--silent", type=int, default=15, help="connections that send nothing")
    parser.add_argument(
        "--candidates", default=env("BENCH_CANDIDATES", ",".join(DEFAULT_CANDIDATES))
    )
    parser.add_argument("--telemetry", default="files", choices=["off", "files"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    candidates = tuple(c.strip() for c in args.candidates.split(",") if c.strip())
    if unknown := set(candidates) - set(CANDIDATES):
        parser.error(f"unknown candidates {sorted(unknown)}; choose from {CANDIDATES}")
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        connections=args.connections,
        hostile={"slow": args.slow, "idle": args.idle, "silent": args.silent},
        candidates=candidates,
        telemetry=args.telemetry,
        out=args.out,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    info = machine()
    print(
        f"Slow clients: {info['nproc']} CPUs, {options.connections} normal connections, "
        f"hostile {options.hostile}, {options.warmup:g}s warm-up + {options.duration:g}s "
        f"measured per phase, {options.rounds} round(s), telemetry {options.telemetry}",
        flush=True,
    )
    runs = []
    for round_no, candidate in rotating_order(options.candidates, options.rounds):
        run = measure(candidate, options)
        run.update(round=round_no, talaro_revision=git_revision())
        runs.append(run)
        print_run(round_no, run)
    info["loadavg_at_end"] = os.getloadavg()
    summary = summarise(runs)
    print_summary(summary)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": info,
        "settings": {**options.__dict__, "goal": GOAL},
        "summary": summary,
        "runs": runs,
    }
    options.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nWrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
