"""Instructions per request, telemetry off against on, counted by callgrind: noise-free.

    .venv/bin/python -m bench.telemetry_instructions [--setups off,files] [--groups detail,mix]
        [--requests 40]

On a shared machine CPU time moves with the other tenants; an instruction count does not
(valgrind runs the program on its own simulated CPU). Each set-up and group is one
process under `valgrind --tool=callgrind` (about 50 times slower than native), built as
`bench.telemetry_cpu` builds it (one app, the same seed), warmed up, then counted from
the first request to the end of the flush that writes their telemetry; the app's start
is not counted. Needs valgrind and its headers (valgrind/callgrind.h) and a C compiler:
a two-function helper is compiled into a temporary folder to switch counting on and off
(two of callgrind's own macros; a package for them would be a dependency for one tool).

What it cannot measure: anything that depends on time. Under valgrind every SQL
statement takes longer than TALARO_TELEMETRY_DB_SPAN_MIN_MS, so use `files-db-min-0`
(every statement's span) and `files-db-min-100000` (none) for the two ends; and cache
effects (the export batch size, for one) are CPU time, not instructions.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HELPER = """
#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void count_stop(void) { CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; }
"""


def build_helper(folder: Path) -> Path:
    source, library = folder / "count.c", folder / "count.so"
    source.write_text(HELPER)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def child(setup: str, group: str, requests: int, helper: str) -> None:
    """Runs under valgrind: one set-up, counted from the first request to the flush."""
    from bench.telemetry_cpu import benches

    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    os.environ.setdefault("OTEL_EXPORTER_OTLP_TIMEOUT", "2")
    count = ctypes.CDLL(helper)
    with benches([setup]) as made:
        bench = made[setup]
        bench.measure(group, 30)  # warm-up: caches, first-use imports
        count.count_start()
        for request in bench.requests(group, requests):
            request()
        bench.flush()
        count.count_stop()


def count(setup: str, group: str, requests: int, helper: Path, folder: Path) -> int:
    out = folder / f"{setup}-{group}.callgrind"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
        sys.executable, "-m", "bench.telemetry_instructions", "--child",
        setup, group, str(requests), str(helper),
    ]  # fmt: skip
    log = folder / f"{setup}-{group}.log"
    with log.open("wb") as output:
        subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, check=True, timeout=3600, cwd=REPO
        )
    dumped = Path(f"{out}.1")  # the dump at count_stop
    for line in dumped.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dumped}; see {log}")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        setup, group, requests, helper = argv[1:5]
        child(setup, group, int(requests), helper)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default="off,files-db-min-0,files-db-min-100000")
    parser.add_argument("--groups", default="detail,mix")
    parser.add_argument("--requests", type=int, default=40, help="per set-up and group")
    args = parser.parse_args(argv)
    setups, groups = args.setups.split(","), args.groups.split(",")
    with tempfile.TemporaryDirectory(prefix="talaro-instructions-") as tmp:
        folder = Path(tmp)
        helper = build_helper(folder)
        found: dict[tuple[str, str], float] = {}
        for group in groups:
            for setup in setups:
                total = count(setup, group, args.requests, helper, folder)
                found[setup, group] = total / args.requests
                base = found.get((setups[0], group))
                added = ""
                if base and setup != setups[0]:
                    added = f"  +{(found[setup, group] - base) / 1e6:.2f} M on {setups[0]}"
                print(
                    f"{group:8} {setup:22} {found[setup, group] / 1e6:8.2f} M instructions"
                    f" per request{added}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
