"""User management for admins (`/api/users`)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from talaro.blueprints.auth.schemas import UserSchema
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
