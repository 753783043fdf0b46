"""The team's own fields: what a business records on a deal or a customer beyond the fixed ones.

A ``FieldDef`` comes from the funnel file (``fields:``); a value is typed by people, read by
``FieldDef.parse`` into canonical texts (one, or several for a multi-choice) that storage keeps one
per row, so that reports can group deals by a choice. ``missing_for_move`` says which fields a deal
must have before it moves into (or past) the stage a field is required from.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from crm_core.domain.errors import CrmError, InvalidInput, Why
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.phones import to_e164
from crm_core.domain.values import MAX_AMOUNT, format_amount, parse_amount

LOCALES = ("en", "ru", "ar")
MAX_TEXT = 500
MAX_KEY = 40
MAX_NAME = 60
MAX_CHOICES = 30
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A field's key names its CSV column and its `--field KEY=`: never one of the deal's own.
RESERVED_KEYS = frozenset(
    {
        *("id", "title", "stage", "owner", "owner_telegram_id", "owner_name", "contact", "contact_name"),
        *("phone", "company", "amount", "currency", "source", "priority", "created_at", "stage_entered_at"),
        *("closed_at", "lost_reason", "lost_note", "pipeline", "fields"),
    }
)
# Words that are a "yes" or a "no" in the team's three languages.
YES = frozenset({"yes", "y", "true", "1", "да", "д", "نعم"})
NO = frozenset({"no", "n", "false", "0", "нет", "н", "لا"})
_URL = re.compile(r"^(https?://)?([\w-]+\.)+[\w-]{2,}(:\d+)?(/\S*)?$", re.IGNORECASE)
_DOTTED_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

Values = tuple[str, ...]


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    PHONE = "phone"
    URL = "url"
    BOOL = "bool"


class FieldEntity(enum.StrEnum):
    DEAL = "deal"
    CONTACT = "contact"


class FieldsRequired(CrmError):
    """A deal moves into or past a stage that requires fields it has not got: nothing moved."""

    code = "fields_required"

    def __init__(self, deal_id: int, stage: str, keys: Sequence[str]) -> None:
        super().__init__(
            f"Deal {deal_id} needs {', '.join(keys)} before it enters {stage}.",
            deal_id=deal_id,
            stage=stage,
            keys=list(keys),
        )
        self.deal_id, self.stage, self.keys = deal_id, stage, list(keys)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One of the team's fields, as the funnel file declares it."""

    key: str
    entity: FieldEntity
    type: FieldType
    names: Mapping[str, str]
    choices: tuple[str, ...] = ()
    required_from: str | None = None  # a stage name: a deal must have it from there on
    position: int = 0

    def name(self, locale: str = "en") -> str:
        """The field's name in ``locale``, English when the file gives none in it."""
        return self.names.get(locale) or self.names.get("en") or self.key

    @property
    def has_choices(self) -> bool:
        return self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE)

    def parse(self, raw: str, *, region: str) -> Values:
        """Read a typed value into its canonical texts; ``InvalidInput`` naming the field when wrong."""
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            raise InvalidInput(self.key, raw, Why.EMPTY)
        if self.type is FieldType.MULTI_CHOICE:
            picked = [self.choice(part, raw) for part in text.split(",") if part.strip()]
            return tuple(c for c in self.choices if c in picked)
        return (self._parse_one(text, raw, region),)

    def choice(self, text: str, raw: str) -> str:
        """The choice ``text`` names, whatever its case."""
        folded = text.strip().casefold()
        for choice in self.choices:
            if choice.casefold() == folded:
                return choice
        raise InvalidInput(self.key, raw, Why.ONE_OF, choices=", ".join(self.choices))

    def _parse_one(self, text: str, raw: str, region: str) -> str:
        kind = self.type
        if kind is FieldType.CHOICE:
            return self.choice(text, raw)
        if kind is FieldType.TEXT:
            if len(text) > MAX_TEXT:
                raise InvalidInput(self.key, raw, Why.TOO_LONG, most=MAX_TEXT)
            return " ".join(text.split())
        if kind is FieldType.NUMBER:
            return _number(text, raw, self.key)
        if kind is FieldType.MONEY:
            try:
                return format_amount(parse_amount(text)) or ""
            except InvalidInput as error:
                raise InvalidInput(self.key, raw, error.reason or Why.NOT_AN_AMOUNT) from None
        if kind is FieldType.DATE:
            return _date(text, raw, self.key).isoformat()
        if kind is FieldType.PHONE:
            try:
                return to_e164(text, region=region)
            except InvalidInput:
                raise InvalidInput(self.key, raw, Why.NOT_A_PHONE) from None
        if kind is FieldType.URL:
            if len(text) > MAX_TEXT or not _URL.match(text):
                raise InvalidInput(self.key, raw, Why.NOT_A_URL)
            return text
        folded = text.casefold()
        if folded in YES:
            return "yes"
        if folded in NO:
            return "no"
        raise InvalidInput(self.key, raw, Why.YES_OR_NO)

    def as_json(self, values: Values) -> object:
        """The stored value as a deal's JSON shows it: a list for a multi-choice, a bool for yes/no."""
        if self.type is FieldType.MULTI_CHOICE:
            return list(values)
        if self.type is FieldType.BOOL:
            return values[0] == "yes"
        return values[0]

    def as_text(self, values: Values) -> str:
        """The stored value as one line of text that ``parse`` reads back (a CSV cell, the CLI)."""
        return ", ".join(values)


def _number(text: str, raw: str, key: str) -> str:
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text).replace(",", ".")
    if not _NUMBER.match(cleaned):
        raise InvalidInput(key, raw, Why.NOT_A_NUMBER)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(key, raw, Why.NOT_A_NUMBER) from None
    if abs(value) > MAX_AMOUNT:
        raise InvalidInput(key, raw, Why.TOO_LARGE)
    normal = format(value.normalize(), "f")
    return "0" if normal in ("-0", "0") else normal


def _date(text: str, raw: str, key: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _DOTTED_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise InvalidInput(key, raw, Why.NOT_A_DATE)


@dataclass(frozen=True, slots=True)
class FieldsSpec:
    """The ``fields:`` of a funnel file: every field the team wants, and those whose values may go."""

    fields: list[FieldDef]
    drop_values: frozenset[str] = field(default_factory=frozenset)


def missing_for_move(
    defs: Sequence[FieldDef], values: Mapping[str, Values], pipeline: Pipeline, source: Stage, target: Stage
) -> list[FieldDef]:
    """The deal fields a forward move from ``source`` to ``target`` needs and the deal has not got.

    A field required from a stage is needed by a move into that stage or past it; a move back, a loss,
    and a pipeline without a stage of that name need nothing."""
    if target.kind is StageKind.LOST or target.position <= source.position:
        return []
    missing = []
    for definition in defs:
        if definition.entity is not FieldEntity.DEAL or definition.required_from is None:
            continue
        wanted = definition.required_from.casefold()
        required = next((s for s in pipeline.stages if s.name.casefold() == wanted), None)
        if required is not None and target.position >= required.position and not values.get(definition.key):
            missing.append(definition)
    return missing
