"""gunicorn settings for Talaro: `gunicorn -c gunicorn.conf.py 'talaro:create_app()'`.

Telemetry is fork-safe by construction: the app (and with it the OpenTelemetry
providers, exporters and their threads) is built in each worker after the fork, so
every worker has its own `service.instance.id`; when a worker exits it flushes and
shuts its telemetry down within TALARO_TELEMETRY_SHUTDOWN_TIMEOUT seconds.

Workers are gevent's (`TalaroWorker` below): each connection is a greenlet, so slow or
idle clients hold no worker thread (BENCHMARKS.md, "Slow clients"); a request's headers
must be complete within `keepalive` seconds, and connections closed for that are recorded
and counted against their address (talaro/security/detection.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.local
from gunicorn.workers.ggevent import GeventWorker

# Spans use the stable HTTP names our records use (http.request.method, url.path, ...);
# set before any worker imports the instrumentation.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("TALARO_WORKERS") or os.environ.get("WEB_CONCURRENCY") or "2")
# The app reads it too: without Redis each worker enforces its share of a rate limit.
os.environ["TALARO_WORKERS"] = str(workers)
# Connections per worker; threads apply only to GUNICORN_WORKER_CLASS=gthread (for comparison).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Seconds a kept-alive connection may idle, and a request's headers may take to arrive.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
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


class _CountingSocket:
    """A client socket that counts the bytes read from it (gunicorn's parser reads with
    recv), to tell a kept-alive connection gone quiet from a request never finished."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.received = 0

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._sock.recv(size, *flags)
        self.received += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@dataclass
class _Connection:
    sock: _CountingSocket
    address: str
    requests: int = 0
    received_by_last_answer: int = 0


class TalaroWorker(GeventWorker):
    """gevent's worker, recording the connections it closes for want of a complete
    request: `silent` (nothing sent) or `incomplete` (part of a request); a kept-alive
    connection that goes quiet after its answers is the normal end, not recorded."""

    def patch(self) -> None:
        super().patch()
        self._connection = gevent.local.local()  # one per greenlet, so per connection
        if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").startswith("grpc"):
            from grpc.experimental import gevent as grpc_gevent

            grpc_gevent.init_gevent()  # gRPC's own threads would block the event loop

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        sock = _CountingSocket(client)
        address = addr[0] if isinstance(addr, tuple) else str(addr)
        self._connection.state = _Connection(sock, address)
        super().handle(listener, sock, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            state = self._connection.state
            state.requests += 1
            state.received_by_last_answer = state.sock.received

    @contextmanager
    def timeout_ctx(self) -> Iterator[None]:
        """Like gevent's worker (headers within `keepalive` seconds, else the connection
        closes), noting why it closed."""
        timer = gevent.Timeout(self.cfg.keepalive)
        timer.start()
        try:
            yield
        except gevent.Timeout as expired:
            if expired is not timer:
                raise
            self._timed_out()
        finally:
            timer.close()

    def _timed_out(self) -> None:
        state = self._connection.state
        if state.sock.received > state.received_by_last_answer:
            kind = "incomplete"
        elif state.requests == 0:
            kind = "silent"
        else:
            return
        try:
            from talaro.security import detection

            with self.wsgi.app_context():
                detection.connection_timed_out(state.address, kind, self.cfg.keepalive)
        except Exception:  # never let telemetry take the worker down
            self.log.exception("recording a timed-out connection failed")


worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or TalaroWorker
