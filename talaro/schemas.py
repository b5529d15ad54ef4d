"""Marshmallow shapes shared by every API blueprint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

# Times a person can mean: anything else is a typo or a probe, and near year 1 or 9999 an
# offset or an added duration overflows Python's datetime.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "forbidden"})
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)


class BoundedAwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset, in UTC, between EARLIEST and LATEST (a 422 otherwise)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = parsed.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise ValidationError("The time is out of range.") from exc
        if not EARLIEST <= in_utc < LATEST:
            raise ValidationError(f"Must be from {EARLIEST.year} up to {LATEST.year} (exclusive).")
        return in_utc


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
