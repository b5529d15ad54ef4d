"""User management (ADMIN): grant roles, deactivate and reactivate accounts, set a
temporary password, sign a user out everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from talaro.blueprints.auth.schemas import PasswordResetSchema
from talaro.blueprints.pages import forms
from talaro.blueprints.pages.display import role_label
from talaro.blueprints.pages.views import bp
from talaro.blueprints.users.schemas import UserUpdateSchema
from talaro.errors import ServiceError
from talaro.models import Role, User
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
    return _act_on_user(user_id, _update)


def _update(acting: User, user: User) -> str:
    changes = forms.load(
        UserUpdateSchema(), {name: request.form.get(name, "") for name in ("role", "active")}
    )
    if not changes:
        raise forms.invalid({"role": ["Choose a role."]}, "Nothing to change")
    accounts.update_user(
        user, role=changes.get("role"), active=changes.get("active"), acting=acting
    )
    state = "active" if user.active else "deactivated"
    return f"{user.name} is now {role_label(user.role)}, {state}."


@bp.route("/users/<user_id>/sign-out-everywhere", methods=["POST"])
@login_required
def user_sign_out_everywhere(user_id: str) -> Any:
    """End every session of the user and revoke their API tokens."""
    return _act_on_user(user_id, _sign_out_everywhere, form=False)


def _sign_out_everywhere(acting: User, user: User) -> str:
    ended = accounts.sign_out_everywhere(user, acting=acting)
    sessions = "session" if ended == 1 else "sessions"
    return f"{user.name} is signed out everywhere ({ended} {sessions} ended, tokens revoked)."


@bp.route("/users/<user_id>/password", methods=["POST"])
@login_required
def user_set_password(user_id: str) -> Any:
    """Set a temporary password, to be changed at the user's next sign-in."""
    return _act_on_user(user_id, _set_temporary_password, failed_id=user_id)


def _set_temporary_password(acting: User, user: User) -> str:
    body = forms.load(PasswordResetSchema(), {"password": request.form.get("password", "")})
    accounts.reset_password(user, body["password"], temporary=True, acting=acting)
    return f"{user.name} has a temporary password and must change it at the next sign-in."


def _act_on_user(
    user_id: str, act: Callable[[User, User], str], *, form: bool = True, **shown: Any
) -> Any:
    """What every action on one user does around `act(acting, user)`, which acts and says
    what it did: ADMIN only (a denial is the plain 403 page), the user, the message flashed,
    back to the list. A form's refusal (an unknown user, a field that does not validate, a
    409) shows the list again with its message, its status and `shown` (`failed_id`: whose
    form failed); a button's (`form=False`) is the app's error page."""
    acting = signed_in_user()
    authorize(acting, Action.USER_MANAGE)
    try:
        message = act(acting, accounts.get_user(user_id))
    except ServiceError as exc:
        if not form:
            raise
        users = accounts.list_users()
        return forms.failed(exc, "users/list.html", users=users, roles=list(Role), **shown)
    flash(message, "success")
    return redirect(url_for("pages.user_list"))
