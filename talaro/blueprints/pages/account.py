"""Signing in and out, and self-registration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from talaro.blueprints.auth.schemas import LoginSchema, PasswordChangeSchema, RegisterSchema
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.views import bp
from talaro.errors import Forbidden, ServiceError
from talaro.permissions import signed_in_user
from talaro.services import accounts, time_zones

REGISTERED = "Registration received: sign in with your email address and password."


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip().removesuffix("?")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with email and password, then go to a safe `next` or the dashboard."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("pages.dashboard"))
    if request.method == "GET":
        return render_template("account/login.html", next_url=next_url, values={}, errors={})
    try:
        data = forms.load(
            LoginSchema(),
            {"email": request.form.get("email", ""), "password": request.form.get("password", "")},
        )
        user = accounts.authenticate(data["email"], data["password"])
    except ServiceError as exc:
        return forms.failed(
            exc,
            "account/login.html",
            next_url=next_url,
            values={"email": request.form.get("email")},
        )
    accounts.start_session(user)
    flash(f"Signed in as {user.name}.", "success")
    for notice in accounts.take_notices(user):
        flash(notice, "info")
    return redirect(next_url or url_for("pages.dashboard"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """Create an account with the lowest-privilege role, then ask for a sign-in: the
    answer is the same whether or not the address already had an account.

    :raise 403: when registration is disabled (`TALARO_ALLOW_REGISTRATION`).
    """
    if not current_app.config["TALARO_ALLOW_REGISTRATION"]:
        raise Forbidden("Registration is disabled", code="registration_disabled")
    if request.method == "GET":
        return render_template("account/register.html", values={}, errors={})
    values = {name: request.form.get(name, "") for name in ("email", "password", "name")}
    try:
        data = forms.load(RegisterSchema(), values)
        accounts.register(data["email"], data["password"], data["name"])
    except ServiceError as exc:
        values.pop("password")
        return forms.failed(exc, "account/register.html", values=values)
    flash(REGISTERED, "success")
    return redirect(url_for("pages.login"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """End the session (a form post, so another site cannot sign you out)."""
    accounts.end_session(signed_in_user())
    flash("You are signed out.", "success")
    return redirect(url_for("pages.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    """Change one's password (the current one required); other sessions end."""
    user = signed_in_user()
    if request.method == "GET":
        return render_template("account/password.html", values={}, errors={})
    values = {name: request.form.get(name, "") for name in ("current_password", "new_password")}
    try:
        data = forms.load(PasswordChangeSchema(), values)
        accounts.change_password(user, data["current_password"], data["new_password"])
    except ServiceError as exc:
        return forms.failed(exc, "account/password.html", values={})
    flash("Your password is changed; your other sessions have ended.", "success")
    return redirect(url_for("pages.dashboard"))


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Your settings: the IANA time zone the pages show times in."""
    user = signed_in_user()
    if request.method == "GET":
        values = {"time_zone": user.time_zone or ""}
        return render_template("account/settings.html", errors={}, **settings_context(values))
    values = {"time_zone": request.form.get("time_zone", "").strip()}
    try:
        accounts.set_time_zone(user, values["time_zone"])
    except ServiceError as exc:
        return forms.failed(exc, "account/settings.html", **settings_context(values))
    flash(f"Times are now shown in {user.time_zone}.", "success")
    return redirect(url_for("pages.settings"))


def settings_context(values: dict[str, str]) -> dict[str, Any]:
    return {"values": values, "zone_names": time_zones.zone_names()}


@bp.route("/account/browser-time-zone", methods=["POST"])
@login_required
def browser_time_zone() -> Any:
    """The zone the browser reports (static/time-zone.js), saved only while the user has
    none: 204 either way, 422 for a name that is not an IANA zone."""
    accounts.adopt_browser_time_zone(signed_in_user(), request.form.get("time_zone", ""))
    return "", 204
