"""How fast does `flask logs` read the telemetry files back? MB/s beside `grep -c`.

    .venv/bin/python -m bench.read_logs [--size-mb 1024] [--dir FOLDER] [--queries a,b]
    (or `make bench-read`; BENCH_READ_ARGS="--size-mb 256")

1. Seed: real records, from a short session of the service writing files (the request
   mix of `bench.telemetry_cpu`: lists, views, uploads, interviews, job lists, plus
   unauthenticated calls for security records).
2. Files: the seed records, repeated with their times moved on (three days in all),
   fresh trace and span ids, and fifty staff accounts instead of three, in the batches
   the service writes (application: 1-12 records a line; security: one a line), rotated
   every 50 MB as the service names them (application.jsonl.N, security-<time>.jsonl),
   each file's modification time that of its last line. `--size-mb` in all.
3. Queries, each a `flask --app talaro logs FOLDER ...` process with its output to
   /dev/null, timed (wall and CPU), and `grep -c` over the same files for the same
   bytes: an event, a user, a trace id, one hour out of three days, and everything.
4. The security events page (`--page-mb`, default 1024; 0 skips it): a second folder of
   security files only, of that size, made the same way, and the time to the page's
   first and second pages (newest first, 50 records) through the function the page calls
   (`pages.security.newest_first`), in a fresh process, imports not counted: no filter,
   one rare event, the last hour; on that folder and on the main one.

MB/s is the files' size over the wall time (and over the CPU time); "reading alone"
takes off what the same command costs on an empty folder (about 0.5 s of imports and
app start-up). The machine is shared; the load average is printed with every figure.
Results: bench-results/read-logs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = REPO / "bench-results" / "read-logs.json"
ROTATE_BYTES = 50 * 1024 * 1024
STAFF = 50
SPAN_S = 3 * 86_400  # the files cover three days
START = datetime(2026, 11, 23, tzinfo=UTC)
QUERIES = ("event", "user", "trace", "hour", "everything")


# Seed ------------------------------------------------------------------------------


def seed_records(requests: int) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(stream, resource_logs without records, record) of a short real session."""
    from bench.telemetry_cpu import benches

    with benches(["files"]) as made:
        bench = made["files"]
        for request in bench.requests("mix", requests):
            request()
        anonymous = bench.app.test_client()
        for n in range(requests // 10):
            anonymous.get("/api/resumes" if n % 2 else f"/api/resumes/{n:032x}")
        bench.flush()
        folder = bench.folder / "telemetry"
        found = []
        for stream in ("application", "security"):
            for line in (folder / f"{stream}.jsonl").read_bytes().splitlines():
                for resource_logs in orjson.loads(line)["resourceLogs"]:
                    for scope_logs in resource_logs["scopeLogs"]:
                        envelope = {
                            "resource": resource_logs.get("resource", {}),
                            "scope": scope_logs.get("scope", {}),
                        }
                        for record in scope_logs["logRecords"]:
                            found.append((stream, envelope, record))
    return found


# Files -----------------------------------------------------------------------------


class Rotating:
    """One stream's files, rotated every ROTATE_BYTES as the service names them."""

    def __init__(self, folder: Path, stream: str) -> None:
        self.folder, self.stream = folder, stream
        self.done: list[tuple[Path, float]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.last_time = 0.0

    def write(self, line: bytes, when: float) -> None:
        if self.size + len(line) > ROTATE_BYTES and self.chunks:
            self._close()
        self.chunks.append(line)
        self.size += len(line)
        self.last_time = when

    def _close(self, live: bool = False) -> None:
        stamp = datetime.fromtimestamp(self.last_time, UTC).strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3]
        name = f"{self.stream}.jsonl" if live else f"{self.stream}-{stamp}.jsonl"
        path = self.folder / name
        path.write_bytes(b"".join(self.chunks))
        os.utime(path, (self.last_time, self.last_time))
        self.done.append((path, self.last_time))
        self.chunks, self.size = [], 0

    def finish(self) -> None:
        if self.stream == "application":  # the service's names: .1 newest ... .N oldest
            self._close(live=True)
            rotated = self.done[:-1]
            for index, (path, when) in enumerate(reversed(rotated), start=1):
                target = self.folder / f"application.jsonl.{index}"
                path.rename(target)
                os.utime(target, (when, when))
        else:
            self._close(live=True)


def generate(folder: Path, size_mb: int, seed: list[Any], rng: random.Random) -> dict[str, Any]:
    """Write about `size_mb` of files; returns what the queries look for."""
    folder.mkdir(parents=True, exist_ok=True)
    target = size_mb * 1024 * 1024
    files = {
        "application": Rotating(folder, "application"),
        "security": Rotating(folder, "security"),
    }
    # Time per byte: the files cover SPAN_S seconds whatever their size.
    average = sum(len(orjson.dumps(record)) for _, _, record in seed) / len(seed)
    step_s = SPAN_S / (target / average)
    written, clock, n = 0, START.timestamp(), 0
    picked_trace = ""
    pending: list[tuple[dict[str, Any], dict[str, Any]]] = []
    batch = rng.randint(1, 12)
    while written < target:
        stream, envelope, template = seed[n % len(seed)]
        n += 1
        clock += step_s * rng.uniform(0.5, 1.5)
        record = orjson.loads(orjson.dumps(template))
        stamp = str(int(clock * 1e9))
        record["timeUnixNano"] = stamp
        if "observedTimeUnixNano" in record:
            record["observedTimeUnixNano"] = stamp
        if "traceId" in record:
            record["traceId"] = f"{rng.getrandbits(128):032x}"
            record["spanId"] = f"{rng.getrandbits(64):016x}"
            if n == 100_000 or not picked_trace:
                picked_trace = record["traceId"]
        staff = n % STAFF
        for pair in record.get("attributes", ()):
            if pair["key"] == "user.email":
                pair["value"] = {"stringValue": f"staff{staff}@bench.example.com"}
            elif pair["key"] == "user.id":
                pair["value"] = {"stringValue": f"{staff:032x}"}
        if stream == "security":
            written += _write(files["security"], envelope, [record], clock)
            continue
        pending.append((envelope, record))
        if len(pending) >= batch:
            written += _write(files["application"], pending[0][0], [r for _, r in pending], clock)
            pending, batch = [], rng.randint(1, 12)
    for rotating in files.values():
        rotating.finish()
    return {"trace": picked_trace, "records": n, "end": clock}


def _write(file: Rotating, envelope: dict[str, Any], records: list[Any], when: float) -> int:
    payload = {
        "resourceLogs": [
            {
                "resource": envelope["resource"],
                "scopeLogs": [{"scope": envelope["scope"], "logRecords": records}],
            }
        ]
    }
    line = orjson.dumps(payload) + b"\n"
    file.write(line, when)
    return len(line)


# Queries ---------------------------------------------------------------------------


def queries(found: dict[str, Any]) -> dict[str, tuple[list[str], str | None]]:
    """name -> (flask logs options, the bytes grep -c looks for)."""
    middle = START + timedelta(seconds=SPAN_S / 2)
    hour = [
        "--since",
        middle.isoformat(),
        "--until",
        (middle + timedelta(hours=1)).isoformat(),
    ]
    return {
        "event": (["--event", "resume_upload"], '"resume_upload"'),
        "user": (["--user", "staff7@bench.example.com"], "staff7@bench.example.com"),
        "trace": (["--trace-id", found["trace"]], found["trace"]),
        "hour": (hour, None),
        "everything": ([], None),
    }


def timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall and CPU time of `command`, its output read and dropped (into a pipe: GNU grep
    stops at the first match when its output is /dev/null)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        while process.stdout.read(1 << 20):
            pass
        code = process.wait()
        wall = time.perf_counter() - started
        errors.seek(0)
        problems = errors.read()[-2000:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in (0, 1):  # grep -c: 1 is "no match"
        raise RuntimeError(f"{command[:4]} failed: {problems!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "load": os.getloadavg()[0]}


def run(folder: Path, chosen: list[str], found: dict[str, Any]) -> dict[str, Any]:
    files = sorted(
        p for p in folder.iterdir() if ".jsonl" in p.name and not p.name.endswith(".lock")
    )
    size = sum(p.stat().st_size for p in files)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TALARO_"))}
    env.update(OTEL_SDK_DISABLED="true", SECRET_KEY="bench-read", DATABASE_URL="sqlite://")
    results: dict[str, Any] = {"bytes": size, "files": len(files), "queries": {}}
    # What a `flask logs` process costs before it reads a byte (imports, the app).
    empty = folder / "empty"
    empty.mkdir(exist_ok=True)
    starts = [timed([str(BIN / "flask"), "--app", "talaro", "logs", str(empty)], env) for _ in "ab"]
    start = min(starts, key=lambda entry: entry["wall_s"])
    results["start_up"] = start
    print(f"start-up    {start['wall_s']:.2f} s wall, {start['cpu_s']:.2f} s CPU", flush=True)
    for name, (options, needle) in queries(found).items():
        if name not in chosen:
            continue
        logs = timed([str(BIN / "flask"), "--app", "talaro", "logs", str(folder), *options], env)
        entry = {"options": options, "logs": logs, "logs_mb_s": size / 1e6 / logs["wall_s"]}
        entry["logs_mb_cpu_s"] = size / 1e6 / max(logs["cpu_s"], 1e-9)
        entry["reading_mb_s"] = size / 1e6 / max(logs["wall_s"] - start["wall_s"], 1e-9)
        entry["reading_mb_cpu_s"] = size / 1e6 / max(logs["cpu_s"] - start["cpu_s"], 1e-9)
        if needle is not None:
            grep = timed(["grep", "-c", "-F", needle, *map(str, files)], env)
            entry.update(grep=grep, grep_mb_s=size / 1e6 / grep["wall_s"])
        results["queries"][name] = entry
        print(
            f"{name:11} flask logs {entry['logs_mb_s']:8.1f} MB/s wall "
            f"({entry['logs_mb_cpu_s']:7.1f} MB/s of CPU; reading alone "
            f"{entry['reading_mb_s']:7.1f} wall, {entry['reading_mb_cpu_s']:7.1f} CPU)"
            + (f"   grep -c {entry['grep_mb_s']:8.1f} MB/s" if needle else "")
            + f"   load {logs['load']:.1f}",
            flush=True,
        )
    return results


# The events page -----------------------------------------------------------------


def page_folder_times(folder: Path, args: argparse.Namespace, found: dict[str, Any]) -> Any:
    pages = folder / "security-only"
    marker = pages / "bench-read.json"
    if marker.exists():
        page_found = json.loads(marker.read_text())
    else:
        print(f"writing {args.page_mb} MB of security files to {pages} ...", flush=True)
        seed = [entry for entry in seed_records(args.seed_requests) if entry[0] == "security"]
        page_found = generate(pages, args.page_mb, seed, random.Random(14))
        marker.write_text(json.dumps(page_found))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TALARO_"))}
    env.update(OTEL_SDK_DISABLED="true", SECRET_KEY="bench-read", DATABASE_URL="sqlite://")
    return {
        "security_only": page_times(pages, page_found["end"], env),
        "main_folder": page_times(folder, found["end"], env),
    }


PAGE_PROBE = """
import json, os, sys, time
from datetime import datetime, timedelta, UTC
from pathlib import Path
from talaro.blueprints.pages import security
from talaro.telemetry import reader
folder, end = Path(sys.argv[1]), float(sys.argv[2])
files = reader.expand_paths([folder], ("security",))
last_hour = datetime.fromtimestamp(end, UTC) - timedelta(hours=1)
filters = {
    "everything": {},
    "event sys_startup": {"events": ("sys_startup",)},
    "last hour": {"since": last_hour},
}
found = {}
for name, options in filters.items():
    where = reader.Filter(streams=("security",), **options)
    for page in (1, 2):
        started, cpu = time.perf_counter(), time.process_time()
        shown = security.newest_first(files, where, page, security.PER_PAGE)
        found[f"{name}, page {page}"] = {
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "records": len(shown.records),
            "load": os.getloadavg()[0],
        }
print(json.dumps({"bytes": sum(f.stat().st_size for f in files), "pages": found}))
"""


def page_times(folder: Path, end: float, env: dict[str, str]) -> dict[str, Any]:
    """Time to the events page's first pages on `folder`'s security files."""
    command = [sys.executable, "-c", PAGE_PROBE, str(folder), str(end)]
    answer = subprocess.run(command, env=env, capture_output=True, check=True, cwd=REPO)
    result: dict[str, Any] = json.loads(answer.stdout.decode().strip().splitlines()[-1])
    for name, entry in result["pages"].items():
        print(
            f"page        {name:26} {entry['wall_s']:6.3f} s wall {entry['cpu_s']:6.3f} s CPU"
            f"  ({entry['records']} records, {result['bytes'] / 1e6:,.0f} MB of security files)"
            f"   load {entry['load']:.1f}",
            flush=True,
        )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=int(os.environ.get("BENCH_READ_MB", 1024)))
    parser.add_argument("--dir", type=Path, help="keep the files here (reused if there)")
    parser.add_argument("--queries", default=",".join(QUERIES))
    parser.add_argument("--seed-requests", type=int, default=400)
    parser.add_argument("--page-mb", type=int, default=1024, help="security files for the page")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    temporary = None
    folder = args.dir
    if folder is None:
        temporary = tempfile.mkdtemp(prefix="talaro-bench-read-")
        folder = Path(temporary)
    try:
        marker = folder / "bench-read.json"
        if marker.exists():
            found = json.loads(marker.read_text())
        else:
            print(f"seeding from {args.seed_requests} requests ...", flush=True)
            seed = seed_records(args.seed_requests)
            print(
                f"{len(seed)} seed records; writing {args.size_mb} MB to {folder} ...", flush=True
            )
            found = generate(folder, args.size_mb, seed, random.Random(14))
            marker.write_text(json.dumps(found))
        results = run(folder, args.queries.split(","), found)
        if args.page_mb:
            results["page"] = page_folder_times(folder, args, found)
        results.update(
            when=datetime.now(UTC).isoformat(timespec="seconds"),
            cpus=os.cpu_count(),
            found=found,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
