# Talaro under gunicorn, as a non-root user; migrations are applied at start.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OTEL_SEMCONV_STABILITY_OPT_IN=http

WORKDIR /app
RUN groupadd --system talaro && useradd --system --gid talaro --home-dir /app talaro

COPY pyproject.toml README.md ./
COPY talaro ./talaro
RUN pip install .

COPY gunicorn.conf.py ./
COPY docker/entrypoint.sh /usr/local/bin/talaro-entrypoint
RUN mkdir -p /app/instance /app/logs && chown -R talaro:talaro /app/instance /app/logs

USER talaro
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
ENTRYPOINT ["talaro-entrypoint"]
