"""User management for admins (`/api/users`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from talaro.blueprints.auth.schemas import PasswordResetSchema, UserSchema
from talaro.permissions import Action, require, signed_in_user
from talaro.services import accounts

from .schemas import UserUpdateSchema

blp = Blueprint("users", __name__, url_prefix="/api/users", description="User management")


@blp.route("", methods=["GET"])
@require(Action.USER_MANAGE)
@blp.response(200, UserSchema(many=True))
def list_users() -> Any:
    """Every user (ADMIN only)."""
    return accounts.list_users()


@blp.route("/<user_id>", methods=["PATCH"])
@require(Action.USER_MANAGE)
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@blp.alt_response(404, description="No such user")
def update_user(body: dict[str, Any], user_id: str) -> Any:
    """Grant a role or (de)activate a user (ADMIN only)."""
    user = accounts.get_user(user_id)
    return accounts.update_user(
        user, role=body.get("role"), active=body.get("active"), acting=signed_in_user()
    )


@blp.route("/<user_id>/sessions", methods=["DELETE"])
@require(Action.USER_MANAGE)
@blp.response(204)
@blp.alt_response(404, description="No such user")
def sign_out_everywhere(user_id: str) -> None:
    """Sign the user out everywhere: every session ends and every API token is revoked."""
    accounts.sign_out_everywhere(accounts.get_user(user_id), acting=signed_in_user())


@blp.route("/<user_id>/password", methods=["POST"])
@require(Action.USER_MANAGE)
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@blp.alt_response(404, description="No such user")
@blp.alt_response(409, description="An admin's own password is changed with the current one")
def set_password(body: dict[str, Any], user_id: str) -> None:
    """Set a user's password, by default a temporary one to change at the next sign-in;
    every session of the user ends."""
    accounts.reset_password(
        accounts.get_user(user_id),
        body["password"],
        temporary=body["temporary"],
        acting=signed_in_user(),
    )
