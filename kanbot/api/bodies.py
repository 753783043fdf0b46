"""The REST API's request bodies, as pydantic models: they validate the requests and describe them in
the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

TELEGRAM_ID = Annotated[StrictInt, Field(ge=1, le=2**53)]
MAX_ID = 2**31 - 1
Ref = Annotated[StrictStr, Field(max_length=64)] | Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
FieldValue = StrictStr | StrictInt | StrictFloat | StrictBool | list[StrictStr] | None


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Contact")

    name: StrictStr | None = Field(None, description="The customer's name.")
    phone: StrictStr | None = Field(None, description="The customer's phone, any format.")


class DealIn(BaseModel):
    """A new deal, as `kanbot deal add` takes it."""

    model_config = ConfigDict(extra="forbid", title="NewDeal")

    title: StrictStr = Field(description="What the deal is.")
    amount: StrictStr | StrictInt | StrictFloat | None = Field(
        None, description='E.g. 1500.50 or "1 500,50".'
    )
    currency: StrictStr | None = Field(None, description="ISO 4217 code; the team's default otherwise.")
    pipeline: Ref | None = Field(None, description="Pipeline name or id (default one).")
    stage: Ref | None = Field(None, description="Stage name or id (default: the inbox).")
    owner_telegram_id: TELEGRAM_ID | None = Field(None, description="The owner (bosses only; default: you).")
    contact: ContactIn | None = None
    fields: dict[StrictStr, FieldValue] | None = Field(None, description="The team's own fields, by key.")

    @field_validator("pipeline", "stage")
    @classmethod
    def _a_reference(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and value.strip().isdigit() and int(value) > MAX_ID:
            raise ValueError(f"an id from 1 to {MAX_ID}, or a name")
        return value

    def field_texts(self) -> dict[str, str]:
        """The own fields as the services take them: text, as typed in the chat or the CLI."""
        return {key: field_text(value) for key, value in (self.fields or {}).items()}


def field_text(value: FieldValue) -> str:
    """An own field's JSON value as the services take it: text, as typed in the chat or the CLI."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def reference(text: str | None, field: str) -> str | None:
    """A pipeline's or a stage's name or id from a query; a problem's reason when it cannot be one."""
    if text is None:
        return None
    if len(text) > 64 or (text.strip().isdigit() and int(text) > MAX_ID):
        return f"{field}: a name of at most 64 characters, or an id"
    return None


def nul_in(data: object, path: str = "") -> str | None:
    """Where ``data`` holds a NUL character (no text may): the field's path, else None."""
    if isinstance(data, str):
        return path or "body" if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = nul_in(value, where)
            if found:
                return found
    if isinstance(data, list):
        for value in data:
            found = nul_in(value, path)
            if found:
                return found
    return None


def first_problem(error: ValidationError) -> tuple[str, str]:
    """The field (``contact.phone``, ``fields.size``) and the reason of a body's first problem."""
    problem = error.errors()[0]
    loc = [str(part) for part in problem["loc"]]
    field = loc[:2] if loc and loc[0] in ("contact", "fields") and len(loc) > 1 else loc[:1]
    reason = str(problem["msg"])
    if problem["type"] == "extra_forbidden":
        reason = "not a field of this request"
    return ".".join(field) or "body", reason
