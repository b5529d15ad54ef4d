"""Marshmallow shapes shared by every API blueprint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, fields, validate


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "forbidden"})
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """A `{items, total, page, per_page}` list schema around `item_schema`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
    )


def page_body(items: Sequence[Any], total: int, args: Mapping[str, Any]) -> dict[str, Any]:
    """The `{items, total, page, per_page}` body of a list endpoint."""
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}
