"""`python -m talaro.serve`: the development server (`make dev`), as a process entry point.

What belongs to a process rather than to the app factory is set here: the HTTP semantic
conventions the spans use, and SIGTERM turned into a normal exit so that telemetry's exit
hook flushes the queues (gunicorn does both through gunicorn.conf.py for `make run`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--reload", action="store_true", help="restart when code changes")
    args = parser.parse_args(argv)
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    signal.signal(signal.SIGTERM, exit_on_sigterm)

    from talaro import create_app

    create_app().run(host=args.host, port=args.port, use_reloader=args.reload, debug=False)


if __name__ == "__main__":
    main()
