"""Talaro: a recruiting service whose every action is recorded as telemetry."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from werkzeug.middleware.proxy_fix import ProxyFix

from talaro import config as settings
from talaro import identity, telemetry

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; `config` overrides the environment (tests pass one)."""
    app = Flask(__name__, instance_relative_config=True)
    init_config(app, config)
    init_identity(app)
    if _flask_command() == "logs":
        return init_log_reader(app)
    init_database(app)
    init_audit_store(app)
    init_proxies(app)
    init_telemetry(app)
    init_auth(app)
    init_web_security(app)
    init_api(app)
    init_pages(app)
    init_security(app)
    init_error_handlers(app)
    init_cli(app)
    return app


def init_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{app.instance_path}/talaro.sqlite",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        API_TITLE="Talaro API",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.instance_secret_key(app.instance_path)


def init_identity(app: Flask) -> None:
    identity.init_app(app)


def _flask_command() -> str | None:
    """The command `flask` is loading the app for (`flask --app talaro logs DIR`: "logs"),
    None elsewhere. Flask builds the app to find its commands, before it knows which one
    runs, so the name is read from the command line: the first argument that is neither
    an option of `flask` itself nor an option's value; None after `--help`, which lists
    every command."""
    context = click.get_current_context(silent=True)
    if context is None or not isinstance(context.command, FlaskGroup):
        return None  # gunicorn, tests, `flask run|shell|routes` (each loads the app itself)
    with_value = {
        name
        for option in context.command.params
        if isinstance(option, click.Option) and not option.is_flag
        for name in option.opts
    }
    args = iter(sys.argv[1:])
    for arg in args:
        if arg in context.help_option_names:
            return None
        if arg in with_value:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def init_log_reader(app: Flask) -> Flask:
    """The app of `flask logs`, which only reads files: the settings, the hash key (for
    --user) and telemetry, but no database, views, sign-in or rate limits, which took
    more than half of the command's start-up."""
    app.config["TALARO_TELEMETRY_DB_SPANS"] = False  # no database to watch
    init_telemetry(app)
    from talaro.telemetry.cli import logs_command

    app.cli.add_command(logs_command)
    return app


def init_database(app: Flask) -> None:
    from talaro.extensions import db, migrate

    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))


def init_audit_store(app: Flask) -> None:
    # Before telemetry: the audit chain writes its checkpoints to the database through it.
    from talaro import audit_store

    audit_store.init_app(app)


def init_proxies(app: Flask) -> None:
    """Behind TALARO_TRUSTED_PROXIES proxies, take the client address from X-Forwarded-For;
    with none (the default) a client cannot spoof it."""
    hops = app.config["TALARO_TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def init_web_security(app: Flask) -> None:
    # After telemetry and auth: a refused request still gets its span and its user.
    from talaro import content_types, input_text, web_security

    web_security.init_app(app)
    input_text.init_app(app)
    content_types.init_app(app)


def init_telemetry(app: Flask) -> None:
    # Before the auth hooks: a request they refuse still gets its server span.
    telemetry.init_app(app)


def init_auth(app: Flask) -> None:
    from talaro.auth import init_auth as _init_auth

    _init_auth(app)


def init_api(app: Flask) -> None:
    from talaro.blueprints import (
        auth,
        candidates,
        directory,
        docs,
        health,
        interviews,
        jobs,
        resumes,
        users,
    )
    from talaro.extensions import api

    api.init_app(app)
    for area in (auth, users, jobs, resumes, candidates, interviews, directory, health):
        api.register_blueprint(area.blp)
    app.register_blueprint(docs.bp)  # /api/docs, outside the document it shows


def init_pages(app: Flask) -> None:
    from talaro.blueprints import pages

    app.register_blueprint(pages.bp)


def init_security(app: Flask) -> None:
    # After the views exist: the rate limits wrap them by endpoint name.
    from talaro.security import init_security as _init_security

    _init_security(app)


def init_error_handlers(app: Flask) -> None:
    from talaro.error_handlers import init_error_handlers as _init_error_handlers

    _init_error_handlers(app)


def init_cli(app: Flask) -> None:
    from talaro.cli import resumes_cli, users_cli
    from talaro.telemetry.audit_cli import audit_cli
    from talaro.telemetry.cli import logs_command

    app.cli.add_command(users_cli)
    app.cli.add_command(resumes_cli)
    app.cli.add_command(logs_command)
    app.cli.add_command(audit_cli)
