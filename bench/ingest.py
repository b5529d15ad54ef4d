"""Bulk ingestion: one request of 100 resumes end to end, against the raw parsers alone.

    .venv/bin/python -m bench.ingest [--count 100] [--rounds 3] [--setups off,files]
    (or `make bench-ingest`; every option also reads a BENCH_INGEST_* environment variable)

The files come from the labelled corpus generator (tests/corpus/generate.py): one- and
two-page resumes, PDF and DOCX in turn. For each round and set-up (`off`:
OTEL_SDK_DISABLED=true, `files`: OTLP JSON Lines files) the benchmark migrates a fresh
SQLite database, starts gunicorn (one worker, gthread; its extraction pool has as many
processes as the machine has cores), signs in over HTTP, warms the pool with one upload,
then times one `POST /api/resumes/bulk` carrying every file (the multipart body is built
beforehand) until the whole JSON answer is read. Beside it, in the same round and in this
process on one core, the raw libraries alone take the same files: pypdf
`PdfReader(...).pages[i].extract_text()` and python-docx paragraphs plus table cells.
The ratio is end-to-end resumes/s over raw resumes/s. Results go to
bench-results/ingest.json.

Why one gunicorn worker: a bulk request is served by one worker, so more workers only add
cold extraction pools the warm-up request might miss; the parallelism is in the pool.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.httpkit import PASSWORD, Client, expect, session_token
from bench.telemetry_overhead import (
    ACCOUNTS,
    Gunicorn,
    Settings,
    _all_stats,
    _exit_on_sigterm,
    app_environment,
    closed_port,
    file_sizes,
    git_revision,
    machine,
    prepare_database,
)
from tests.corpus.generate import generate

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = REPO / "bench-results" / "ingest.json"
GOAL_RATIO = 0.70
GOAL_RATE = 40.0
SETUPS = ("off", "files")
REQUEST_TIMEOUT_S = 300


@dataclass(frozen=True)
class Options:
    count: int
    rounds: int
    seed: int
    setups: tuple[str, ...]
    out: Path


def corpus(count: int, seed: int) -> list[tuple[str, bytes]]:
    return [(s.filename, s.data) for s in generate(count, seed=seed, formats=("pdf", "docx"))]


def raw_seconds(files: list[tuple[str, bytes]]) -> tuple[float, float]:
    """The libraries alone, one process, one core: the floor any pipeline pays.
    Returns (wall seconds, CPU seconds)."""
    import docx
    import pypdf

    started, cpu = time.perf_counter(), time.process_time()
    for _, data in files:
        if data.startswith(b"%PDF"):
            reader = pypdf.PdfReader(io.BytesIO(data))
            "\n".join(page.extract_text() for page in reader.pages)
        else:
            document = docx.Document(io.BytesIO(data))
            lines = [p.text for p in document.paragraphs]
            lines += [c.text for t in document.tables for r in t.rows for c in r.cells]
            "\n".join(lines)
    return time.perf_counter() - started, time.process_time() - cpu


def tree_cpu_seconds(pid: int) -> dict[str, float]:
    """User + system CPU of `pid` and every descendant still alive (gunicorn's master, its
    worker, the worker's forkserver and extraction processes): in all, and in the web
    processes (master and worker) alone."""
    stats = dict(_all_stats())
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, fields in stats.items():
            if int(fields[1]) == parent and child not in family:
                family.add(child)
                frontier.append(child)
    ticks = os.sysconf("SC_CLK_TCK")
    web = {pid} | {child for child in family if int(stats[child][1]) == pid}

    def cpu(pids: set[int]) -> float:
        return sum(int(stats[p][11]) + int(stats[p][12]) for p in pids if p in stats) / ticks

    return {"all": cpu(family), "web": cpu(web)}


def multipart_files(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class OneWorker(Gunicorn):
    """The telemetry benchmark's gunicorn, with one worker (see the module docstring)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        settings = Settings(0, 0, 0, 0, 0, "gthread", 4, (), Path())
        super().__init__(env, settings, log)
        at = self.command.index("--workers")
        self.command[at + 1] = "1"

    def workers(self) -> list[int]:
        found = super().workers()
        return found * 2 if len(found) == 1 else found  # the parent waits for "2"


def measure(setup: str, files: list[tuple[str, bytes]], dead_port: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"talaro-ingest-{setup}-"))
    try:
        env = app_environment(setup, folder, dead_port)
        prepare_database(env, folder / "cli.log")
        body, content_type = multipart_files(files)
        with OneWorker(env, folder / "gunicorn.log") as server:
            email = ACCOUNTS["recruiter"][0]
            _, token = session_token(server.port, email, PASSWORD, "ingest")
            client = Client(server.port, timeout=REQUEST_TIMEOUT_S, token=token)
            try:
                warm = client.post_file("/api/resumes", "warm.txt", b"Warm Up\nwarm@example.org\n")
                expect(warm, 201, "warm-up upload")
                cpu_before = tree_cpu_seconds(server.pid)
                started = time.perf_counter()
                reply = client.request(
                    "POST", "/api/resumes/bulk", body, {"Content-Type": content_type}
                )
                elapsed = time.perf_counter() - started
                cpu_after = tree_cpu_seconds(server.pid)
            finally:
                client.close()
            expect(reply, 200, "bulk upload")
            answer = reply.json()
        failed = [r for r in answer["results"] if r["status"] != "created"]
        return {
            "setup": setup,
            "files": len(files),
            "created": answer["success_count"],
            "failed": [{"filename": r["filename"], "error": r["error"]} for r in failed],
            "seconds": round(elapsed, 3),
            "resumes_per_s": round(len(files) / elapsed, 2),
            "server_cpu_s": round(cpu_after["all"] - cpu_before["all"], 2),
            "web_process_cpu_s": round(cpu_after["web"] - cpu_before["web"], 2),
            "request_bytes": len(body),
            "telemetry_bytes_by_file": file_sizes(folder / "telemetry"),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(options: Options) -> dict[str, Any]:
    info = machine()
    files = corpus(options.count, options.seed)
    kinds = sum(data.startswith(b"%PDF") for _, data in files)
    print(
        f"Talaro ingestion: {len(files)} resumes ({kinds} PDF, {len(files) - kinds} DOCX, "
        f"{sum(len(d) for _, d in files) // 1024} KiB) in one bulk request; "
        f"{info['nproc']} CPUs ({info['cpu_model']}), {options.rounds} round(s)",
        flush=True,
    )
    runs = []
    with closed_port() as dead_port:
        for round_no in range(1, options.rounds + 1):
            raw, raw_cpu = raw_seconds(files)
            raw_rate = len(files) / raw
            order = options.setups if round_no % 2 else options.setups[::-1]
            for setup in order:
                result = measure(setup, files, dead_port)
                result.update(
                    round=round_no,
                    raw_seconds=round(raw, 3),
                    raw_cpu_s=round(raw_cpu, 3),
                    raw_resumes_per_s=round(raw_rate, 2),
                    ratio=round(result["resumes_per_s"] / raw_rate, 3),
                    # Load-independent: the raw libraries' CPU over the whole server's.
                    cpu_ratio=round(raw_cpu / max(result["server_cpu_s"], 0.01), 3),
                    loadavg=os.getloadavg()[0],
                )
                runs.append(result)
                print(
                    f"  round {round_no} {setup:>5}: {result['resumes_per_s']:6.1f} resumes/s "
                    f"end to end ({result['seconds']:.2f} s, {result['created']} created)  "
                    f"raw libraries {raw_rate:6.1f}/s  ratio {result['ratio']:.2f}  "
                    f"CPU: server {result['server_cpu_s']:.2f} s "
                    f"(web {result['web_process_cpu_s']:.2f} s), raw {raw_cpu:.2f} s  "
                    f"load {result['loadavg']:.1f}",
                    flush=True,
                )
                if result["failed"]:
                    print(
                        f"  !!! {len(result['failed'])} files not created: {result['failed'][:3]}"
                    )
    info["loadavg_at_end"] = os.getloadavg()
    summary = summarise(runs, options.setups)
    return {
        "machine": {**info, "talaro_revision": git_revision()},
        "options": {**options.__dict__, "out": str(options.out)},
        "summary": summary,
        "runs": runs,
    }


def summarise(runs: list[dict[str, Any]], setups: tuple[str, ...]) -> dict[str, Any]:
    summary = {}
    for setup in setups:
        mine = [r for r in runs if r["setup"] == setup]
        rate = statistics.median(r["resumes_per_s"] for r in mine)
        ratio = statistics.median(r["ratio"] for r in mine)
        summary[setup] = {
            "median_resumes_per_s": rate,
            "median_ratio": ratio,
            "ratio_each_round": [r["ratio"] for r in mine],
            "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in mine),
            "resumes_per_s_each_round": [r["resumes_per_s"] for r in mine],
            "raw_resumes_per_s_each_round": [r["raw_resumes_per_s"] for r in mine],
            "all_created": all(not r["failed"] for r in mine),
            "goal_met": rate >= GOAL_RATE and ratio >= GOAL_RATIO,
        }
    return summary


def parse_args(argv: list[str]) -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=int(env("BENCH_INGEST_COUNT", "100")))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_INGEST_ROUNDS", "3")))
    parser.add_argument("--seed", type=int, default=int(env("BENCH_INGEST_SEED", "1")))
    parser.add_argument("--setups", default=env("BENCH_INGEST_SETUPS", ",".join(SETUPS)))
    parser.add_argument("--out", type=Path, default=Path(env("BENCH_INGEST_OUT", str(RESULTS))))
    args = parser.parse_args(argv)
    setups = tuple(s.strip() for s in args.setups.split(",") if s.strip())
    if set(setups) - set(SETUPS):
        parser.error(f"set-ups are {SETUPS}")
    return Options(args.count, args.rounds, args.seed, setups, args.out)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results = run(options)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2))
    print(
        f"\nMedian over {options.rounds} round(s) (goal: >= {GOAL_RATE:g} resumes/s and "
        f">= {GOAL_RATIO:.2f} of the raw libraries' rate)"
    )
    for setup, numbers in results["summary"].items():
        verdict = "goal met" if numbers["goal_met"] else "GOAL NOT MET"
        print(
            f"  {setup:>5}: {numbers['median_resumes_per_s']:6.1f} resumes/s, ratio "
            f"{numbers['median_ratio']:.2f} (each round {numbers['ratio_each_round']}), "
            f"raw CPU / server CPU {numbers['median_cpu_ratio']:.2f}  {verdict}"
        )
    print(f"Results: {options.out}")
    failed = any(not n["all_created"] for n in results["summary"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
