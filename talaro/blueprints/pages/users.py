"""User management (ADMIN): grant roles, deactivate and reactivate accounts, set a
temporary password, sign a user out everywhere."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.auth.schemas import PasswordResetSchema
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import role_label
from talaro.blueprints.pages.views import bp
from talaro.blueprints.users.schemas import UserUpdateSchema
from talaro.errors import ServiceError
from talaro.models import Role
from talaro.permissions import Action, authorize, require, signed_in_user
from talaro.services import accounts


@bp.route("/users")
@login_required
@require(Action.USER_MANAGE)
def user_list() -> Any:
    """Every user, each with a role form and an activate/deactivate button."""
    return render_template("users/list.html", users=accounts.list_users(), roles=list(Role))


@bp.route("/users/<user_id>", methods=["POST"])
@login_required
def user_update(user_id: str) -> Any:
    """Change one user's role and/or active flag.

    :raise 403: for anyone but an ADMIN. :raise 409: an admin locking themself out.
    """
    acting = signed_in_user()
    authorize(acting, Action.USER_MANAGE)  # a denial is the plain 403 page
    try:
        user = accounts.get_user(user_id)
        changes = forms.load(
            UserUpdateSchema(),
            {name: request.form.get(name, "") for name in ("role", "active")},
        )
        if not changes:
            raise forms.invalid({"role": ["Choose a role."]}, "Nothing to change")
        accounts.update_user(
            user, role=changes.get("role"), active=changes.get("active"), acting=acting
        )
    except ServiceError as exc:
        return forms.failed(exc, "users/list.html", users=accounts.list_users(), roles=list(Role))
    state = "active" if user.active else "deactivated"
    flash(f"{user.name} is now {role_label(user.role)}, {state}.", "success")
    return redirect(url_for("pages.user_list"))


@bp.route("/users/<user_id>/sign-out-everywhere", methods=["POST"])
@login_required
def user_sign_out_everywhere(user_id: str) -> Any:
    """End every session of the user and revoke their API tokens."""
    acting = signed_in_user()
    authorize(acting, Action.USER_MANAGE)
    user = accounts.get_user(user_id)
    ended = accounts.sign_out_everywhere(user, acting=acting)
    sessions = "session" if ended == 1 else "sessions"
    flash(
        f"{user.name} is signed out everywhere ({ended} {sessions} ended, tokens revoked).",
        "success",
    )
    return redirect(url_for("pages.user_list"))


@bp.route("/users/<user_id>/password", methods=["POST"])
@login_required
def user_set_password(user_id: str) -> Any:
    """Set a temporary password, to be changed at the user's next sign-in."""
    acting = signed_in_user()
    authorize(acting, Action.USER_MANAGE)
    try:
        user = accounts.get_user(user_id)
        body = forms.load(PasswordResetSchema(), {"password": request.form.get("password", "")})
        accounts.reset_password(user, body["password"], temporary=True, acting=acting)
    except ServiceError as exc:
        return forms.failed(
            exc, "users/list.html", users=accounts.list_users(), roles=list(Role), failed_id=user_id
        )
    flash(
        f"{user.name} has a temporary password and must change it at the next sign-in.", "success"
    )
    return redirect(url_for("pages.user_list"))
