"""Bot API parameters from any of the ways Telegram takes them: query string, JSON, form, multipart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from telegram_emulator.errors import bad_request


@dataclass
class Upload:
    """A file sent as a multipart part."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Typed access to a call's parameters; values are strings (forms) or JSON values, or uploads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def has(self, name: str) -> bool:
        return self.raw(name) is not None

    def get_str(self, name: str, *, required: str | None = None) -> str | None:
        """The parameter as text; `required` is the error when it is missing."""
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(required)
            return None
        if isinstance(value, Upload):
            raise bad_request(f"parameter {name} must be a string")
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: str | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(required)
            return None
        if isinstance(value, bool):
            raise bad_request(f"parameter {name} must be a number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"parameter {name} must be a number") from None

    def get_bool(self, name: str) -> bool:
        value = self.raw(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def get_json(self, name: str) -> Any:
        """A structured parameter: an object in JSON bodies, its JSON text in forms."""
        value = self.raw(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def upload(self, name: str) -> Upload | None:
        """A file part, sent under the parameter's name or referenced as "attach://<part>"."""
        value = self.raw(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.raw(value.removeprefix("attach://"))
        return value if isinstance(value, Upload) else None

    def loggable(self) -> dict[str, Any]:
        """The parameters for the request log, with files summarised."""
        shown: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, Upload):
                shown[key] = {"filename": value.filename, "size": len(value.data)}
            else:
                shown[key] = value
        return shown


async def read_params(request: web.Request) -> Params:
    """Merge the query string with whatever body the client sent."""
    values: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return Params(values)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        values.update(body)
    elif content_type.startswith("multipart/"):
        values.update(await _read_multipart(request))
    else:
        values.update(await request.post())
    return Params(values)


async def _read_multipart(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.filename is not None:
            data = await part.read(decode=True)
            values[part.name] = Upload(part.filename, part.headers.get("Content-Type"), bytes(data))
        else:
            values[part.name] = await part.text()
    return values
