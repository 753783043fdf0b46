"""Other CRMs' deal exports read as Kanbot's import rows: a pure mapping, no storage.

Each product (Kommo, Bitrix24, Pipedrive) names its export's columns its own way, and in the language of
the account that exported it; ``COLUMNS`` lists, per product, the headers that carry each thing Kanbot
reads. A column that is none of them is a custom column: it goes to the team's field of that key or name
when one is declared, otherwise into a note on the deal. Won and lost deals are stages in Kommo and
Bitrix24 (the products' own names for them are known here) and a status column in Pipedrive.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crm_core.domain.errors import InvalidInput


class Product(enum.StrEnum):
    KOMMO = "kommo"
    BITRIX24 = "bitrix24"
    PIPEDRIVE = "pipedrive"

    @property
    def label(self) -> str:
        return {"kommo": "Kommo", "bitrix24": "Bitrix24", "pipedrive": "Pipedrive"}[self.value]


class Outcome(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


# What Kanbot reads, each a list of the headers that carry it (matched case-insensitively). A thing
# with several columns (a work and a mobile phone) takes the first that is filled.
KOMMO_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID", "Lead ID"),
    "title": ("Lead title", "Lead name", "Name", "Название сделки", "Название"),
    "amount": ("Budget", "Sale", "Бюджет", "Продажа"),
    "owner": ("Lead responsible", "Responsible user", "Responsible", "Ответственный"),
    "pipeline": ("Pipeline", "Воронка"),
    "stage": ("Stage", "Status", "Lead status", "Этап сделки", "Этап", "Статус"),
    "created_at": ("Date created", "Created at", "Дата создания"),
    "closed_at": ("Closed at", "Date closed", "Дата закрытия"),
    "lost_reason": ("Loss reason", "Lost reason", "Причина отказа"),
    "contact_name": ("Full name (contact)", "Main contact", "Contact", "Полное имя (контакт)", "Контакт"),
    "phone": (
        "Work phone (contact)",
        "Mobile phone (contact)",
        "Other phone (contact)",
        "Phone",
        "Рабочий телефон (контакт)",
        "Мобильный телефон (контакт)",
        "Телефон",
    ),
    "company": ("Company (contact)", "Company", "Компания (контакт)", "Компания"),
}
BITRIX24_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "title": ("Deal Name", "Name", "Название сделки", "Название"),
    "amount": ("Income", "Amount", "Opportunity", "Сумма", "Доход"),
    "currency": ("Currency", "Валюта"),
    "owner": ("Responsible", "Responsible person", "Ответственный"),
    "pipeline": ("Pipeline", "Sales funnel", "Funnel", "Воронка", "Направление"),
    "stage": ("Stage", "Deal stage", "Стадия сделки", "Стадия"),
    "created_at": ("Created", "Date created", "Created on", "Дата создания"),
    "closed_at": ("Closed", "Date closed", "Closed on", "Дата закрытия", "Дата завершения"),
    "lost_reason": ("Failure reason", "Loss reason", "Причина провала"),
    "contact_name": ("Contact", "Contact: Name", "Контакт"),
    "phone": ("Contact: Phone", "Contact: Work phone", "Contact: Mobile phone", "Phone", "Телефон"),
    "company": ("Company", "Компания"),
}
PIPEDRIVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Deal - ID", "ID"),
    "title": ("Deal - Title", "Title"),
    "amount": ("Deal - Value", "Value"),
    "currency": ("Deal - Currency", "Currency"),
    "owner": ("Deal - Owner", "Owner"),
    "pipeline": ("Deal - Pipeline", "Pipeline"),
    "stage": ("Deal - Stage", "Stage"),
    "status": ("Deal - Status", "Status"),
    "created_at": ("Deal - Deal created", "Deal created", "Deal - Add time"),
    "closed_at": ("Deal - Won time", "Deal - Lost time", "Deal - Close time", "Won time", "Lost time"),
    "lost_reason": ("Deal - Lost reason", "Lost reason"),
    "contact_name": ("Person - Name", "Deal - Contact person", "Contact person"),
    "phone": ("Person - Phone", "Person - Phone - Work", "Person - Phone - Mobile", "Phone"),
    "company": ("Organization - Name", "Deal - Organization", "Organization"),
}
COLUMNS: dict[Product, dict[str, tuple[str, ...]]] = {
    Product.KOMMO: KOMMO_COLUMNS,
    Product.BITRIX24: BITRIX24_COLUMNS,
    Product.PIPEDRIVE: PIPEDRIVE_COLUMNS,
}
# Columns each product always writes that are bookkeeping there, not worth a note here.
IGNORED: dict[Product, tuple[str, ...]] = {
    Product.KOMMO: (
        "Created by",
        "Date modified",
        "Modified by",
        "Кем создана",
        "Дата изменения",
        "Кем изменена",
    ),
    Product.BITRIX24: (
        "Created by",
        "Modified",
        "Modified by",
        "Кем создана",
        "Дата изменения",
        "Кем изменена",
    ),
    Product.PIPEDRIVE: (
        "Deal - Update time",
        "Deal - Last stage change",
        "Deal - Creator",
        "Deal - Weighted value",
        "Deal - Weighted value currency",
        "Deal - Visible to",
        "Deal - Label",
        "Person - ID",
        "Organization - ID",
    ),
}
# The stages that are won or lost in the product, whatever pipeline they end.
WON_STAGES: dict[Product, tuple[str, ...]] = {
    Product.KOMMO: ("Closed - won", "Successfully realized", "Closed won", "Успешно реализовано"),
    Product.BITRIX24: ("Deal won", "Deal successful", "Won", "Сделка успешна", "Успешная сделка"),
    Product.PIPEDRIVE: (),
}
LOST_STAGES: dict[Product, tuple[str, ...]] = {
    Product.KOMMO: ("Closed - lost", "Closed and not realized", "Closed lost", "Закрыто и не реализовано"),
    Product.BITRIX24: (
        "Deal lost",
        "Deal failed",
        "Analyze failure",
        "Lost",
        "Сделка провалена",
        "Анализ причины провала",
    ),
    Product.PIPEDRIVE: (),
}
_STATUSES = {"open": Outcome.OPEN, "won": Outcome.WON, "lost": Outcome.LOST, "deleted": Outcome.OPEN}
_DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One deal of the export, in Kanbot's terms but not yet checked against the team's funnel."""

    line: int
    external_id: str
    title: str
    pipeline: str
    stage: str
    outcome: Outcome
    owner: str
    contact_name: str
    phone: str
    company: str
    amount: str
    currency: str
    created_at: str
    closed_at: str
    lost_reason: str
    extras: tuple[tuple[str, str], ...] = ()  # custom columns: (header, value), filled ones only


@dataclass(frozen=True, slots=True)
class Header:
    """Which column of the file carries what: Kanbot's keys to column indexes, and the custom columns."""

    product: Product
    read: dict[str, list[int]]
    custom: list[tuple[int, str]]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def read_header(product: Product, names: Sequence[str]) -> Header:
    """The file's first line understood; ``InvalidInput`` when it lacks the deal's title or id column."""
    aliases = {_fold(alias): key for key, options in COLUMNS[product].items() for alias in options}
    ignored = {_fold(name) for name in IGNORED[product]}
    read: dict[str, list[int]] = {}
    custom: list[tuple[int, str]] = []
    for index, name in enumerate(names):
        folded = _fold(name)
        if not folded or folded in ignored:
            continue
        key = aliases.get(folded)
        if key is None:
            custom.append((index, " ".join(name.split())))
        elif key == "id" and "id" in read:
            custom.append((index, " ".join(name.split())))  # a second id column: another object's
        else:
            read.setdefault(key, []).append(index)
    for needed in ("id", "title"):
        if needed not in read:
            wanted = " or ".join(f"`{a}`" for a in COLUMNS[product][needed][:3])
            raise InvalidInput(
                f"{product.label} export",
                "header",
                detail=f"the first line has no {wanted} column: is it a {product.label} deals export?",
            )
    return Header(product, read, custom)


def map_row(header: Header, line: int, cells: Sequence[str]) -> ImportRow:
    """One line of the file as an ``ImportRow``; every text trimmed, the outcome worked out."""

    def get(key: str) -> str:
        for index in header.read.get(key, ()):
            if index < len(cells) and cells[index].strip():
                return " ".join(cells[index].split()) if key != "lost_reason" else cells[index].strip()
        return ""

    stage = get("stage")
    outcome = Outcome.OPEN
    status = get("status")
    if status:
        found = _STATUSES.get(status.casefold())
        if found is None:
            raise InvalidInput("status", status, detail="open, won or lost expected")
        outcome = found
    elif _fold(stage) in {_fold(s) for s in WON_STAGES[header.product]}:
        outcome = Outcome.WON
    elif _fold(stage) in {_fold(s) for s in LOST_STAGES[header.product]}:
        outcome = Outcome.LOST
    extras = tuple(
        (name, cells[index].strip())
        for index, name in header.custom
        if index < len(cells) and cells[index].strip()
    )
    return ImportRow(
        line=line,
        external_id=get("id"),
        title=get("title"),
        pipeline=get("pipeline"),
        stage=stage,
        outcome=outcome,
        owner=get("owner"),
        contact_name=get("contact_name"),
        phone=get("phone"),
        company=get("company"),
        amount=get("amount"),
        currency=get("currency"),
        created_at=get("created_at"),
        closed_at=get("closed_at"),
        lost_reason=get("lost_reason"),
        extras=extras,
    )


def parse_when(raw: str, *, what: str) -> datetime | None:
    """A date or time as the products write them (ISO, 31.12.2026 18:00, 12/31/2026), in UTC when the
    text names no zone."""
    text = raw.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                when = datetime.strptime(text, pattern).replace(tzinfo=UTC)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput(
                what, text, detail="a date like 2026-12-31 or 31.12.2026 18:00 expected"
            ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StageMapping:
    """The ``--map-stages`` file: the product's pipelines, stages and users named in Kanbot's terms.

    ``pipeline`` is the Kanbot pipeline of rows whose pipeline has no match; ``stages`` may name a
    product stage alone or as "Pipeline / Stage" when two pipelines share a stage name."""

    pipeline: str | None = None
    pipelines: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc: Any) -> StageMapping:
        if doc is None:
            return cls()
        if not isinstance(doc, Mapping):
            raise InvalidInput("mapping file", type(doc).__name__, detail="a mapping with `stages:` expected")
        unknown = set(doc) - {"pipeline", "pipelines", "stages", "owners"}
        if unknown:
            raise InvalidInput(
                "mapping file",
                ", ".join(sorted(map(str, unknown))),
                detail="only pipeline, pipelines, stages and owners",
            )

        def table(key: str) -> dict[str, str]:
            value = doc.get(key) or {}
            if not isinstance(value, Mapping):
                raise InvalidInput(
                    f"mapping file `{key}`", str(value), detail="a list of `name: name` expected"
                )
            return {_fold(str(k)): " ".join(str(v).split()) for k, v in value.items() if v is not None}

        pipeline = doc.get("pipeline")
        return cls(
            pipeline=str(pipeline).strip() if pipeline else None,
            pipelines=table("pipelines"),
            stages=table("stages"),
            owners=table("owners"),
        )

    def pipeline_for(self, name: str) -> str | None:
        return self.pipelines.get(_fold(name)) if name else None

    def stage_for(self, pipeline: str, stage: str) -> str | None:
        return self.stages.get(_fold(f"{pipeline} / {stage}")) or self.stages.get(_fold(stage))

    def owner_for(self, name: str) -> str | None:
        return self.owners.get(_fold(name))


def same_name(a: str, b: str) -> bool:
    return _fold(a) == _fold(b)


def email_name(email: str) -> str | None:
    """The person's name an e-mail address spells ("anna.petrova@acme.com": "anna petrova")."""
    local, at, _ = email.partition("@")
    if not at or not local:
        return None
    return " ".join(local.replace(".", " ").replace("_", " ").replace("-", " ").split())
