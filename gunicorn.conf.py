"""gunicorn settings for Talaro: `gunicorn -c gunicorn.conf.py 'talaro:create_app()'`.

Telemetry is fork-safe by construction: the app (and with it the OpenTelemetry
providers, exporters and their threads) is built in each worker after the fork, so
every worker has its own `service.instance.id`; when a worker exits it flushes and
shuts its telemetry down within TALARO_TELEMETRY_SHUTDOWN_TIMEOUT seconds.
"""

from __future__ import annotations

import os
from typing import Any

# Spans use the stable HTTP names our records use (http.request.method, url.path, ...);
# set before any worker imports the instrumentation.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Never load the app in the master: providers built before fork would be shared by
# every worker (one instance id, exporter threads that do not survive the fork).
preload_app = False
# A graceful stop waits for in-flight requests, then for the telemetry flush.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = None  # every request is an http_request record already
errorlog = "-"


def worker_exit(server: Any, worker: Any) -> None:
    """Flush this worker's telemetry (bounded) before the process goes away."""
    from talaro import telemetry

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        flushed = telemetry.shutdown(app)
        if not flushed:
            server.log.warning("worker %s: telemetry shutdown timed out", worker.pid)
