"""Refuse request text that the database cannot store: NUL characters and lone surrogates.

PostgreSQL rejects both in text columns, so without this a `\\u0000` in any JSON field,
query parameter, form field or path id ended in a 500 (found by the schemathesis run).
One check before every view instead of one per field.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request

from talaro.errors import Invalid

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text cannot contain NUL characters or unpaired surrogates"


def unstorable_fields(value: Any, name: str = "") -> list[str]:
    """The dotted names of the strings in `value` (nested dicts and lists) that hold bad text."""
    if isinstance(value, str):
        return [name or "value"] if UNSTORABLE.search(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            label = f"{name}.{key}" if name else str(key)
            if isinstance(key, str) and UNSTORABLE.search(key):
                found.append(name or "body")
            found.extend(unstorable_fields(item, label))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unstorable_fields(item, f"{name}[{index}]" if name else f"[{index}]"))
    return found


def refuse_unstorable_text() -> None:
    fields = unstorable_fields(request.view_args or {})
    for key in request.args:
        fields.extend(unstorable_fields(request.args.getlist(key), key))
        if UNSTORABLE.search(key):
            fields.append("query")
    if request.is_json:
        fields.extend(unstorable_fields(request.get_json(silent=True)))
    elif request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key in request.form:
            fields.extend(unstorable_fields(request.form.getlist(key), key))
    if fields:
        names = sorted({field.split("[")[0] for field in fields})
        raise Invalid(MESSAGE, details={"fields": {field: [MESSAGE] for field in names}})


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
