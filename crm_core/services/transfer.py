"""Deals in and out as CSV: export everything, import a file only when every row is right.

A spreadsheet runs a cell that starts with ``= + - @``, a tab or a carriage return as a formula
(CSV injection), so the export writes such a cell with a leading ``'`` — what OWASP recommends — and
the import takes it off again, so that a file exported then imported gives back the same text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crm_core.domain.contacts import Contact, KnownCustomer
from crm_core.domain.deals import Deal, Priority, Source
from crm_core.domain.errors import CrmError, InvalidInput, NotFound, Why
from crm_core.domain.fields import FieldDef, FieldEntity, Values
from crm_core.domain.funnel import Pipeline, StageKind
from crm_core.domain.history import Actor
from crm_core.domain.phones import to_e164
from crm_core.domain.users import Role, User, valid_name
from crm_core.domain.values import format_amount, parse_amount, valid_currency, valid_title
from crm_core.services.base import ServiceBase, default_pipeline, require_boss
from crm_core.services.deal_fields import many_deal_field_values
from crm_core.services.deals import known_customer
from crm_core.services.unit_of_work import UnitOfWork

EXPORT_COLUMNS = [
    "id",
    "title",
    "pipeline",
    "stage",
    "owner_telegram_id",
    "owner_name",
    "contact_name",
    "phone",
    "amount",
    "currency",
    "source",
    "priority",
    "created_at",
    "stage_entered_at",
    "closed_at",
    "lost_reason",
]
MAX_IMPORT_ROWS = 100_000
ADMIN = User(id=0, telegram_id=0, name="admin", role=Role.BOSS)  # who an import acts as: sees every deal

# A cell that starts with a formula character, after any number of quotes: the export adds one quote in
# front of it and the import takes one off. Cells that start with quotes are part of the rule so that a
# title really starting with "'=" comes back as it was, not as "=" (the mapping is one-to-one).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
# A plain number (a phone in E.164, a negative amount) is no formula: a spreadsheet reads it as a number.
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RowJoin:
    """A row whose phone was a known customer's: its deal joined that customer."""

    line: int
    customer: KnownCustomer

    def __str__(self) -> str:
        deals = ", ".join(f"#{d.id} {' '.join((d.title or '').split())}" for d in self.customer.seen)
        head = f"line {self.line}: {self.customer.contact.phone} is {self.customer.name}'s"
        return head + (f"; it joins their open deals: {deals}" if deals else "; it joins that customer")


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    errors: list[RowError]
    joined: list[RowJoin] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    line: int
    title: str
    pipeline: Pipeline
    stage_id: int
    owner: User | None
    contact_name: str | None
    phone: str | None
    amount: Decimal | None
    currency: str
    priority: Priority
    created_at: datetime | None
    lost_reason: str | None
    fields: list[tuple[FieldDef, Values]] = field(default_factory=list)
    closed_at: datetime | None = None  # when the deal was won or lost elsewhere (an importer's rows)
    company: str | None = None


# The name importers use for the row type they hand to ``insert_row``.
ImportedDeal = _Row


@dataclass(frozen=True, slots=True)
class _Pipelines:
    """The pipelines a row may name in its ``pipeline`` cell; an empty cell is the default one."""

    default: Pipeline
    every: list[Pipeline]

    def named(self, text: str) -> Pipeline:
        name = text.strip()
        if not name:
            return self.default
        folded = name.casefold()
        for pipeline in self.every:
            if pipeline.name.casefold() == folded:
                return pipeline
        known = ", ".join(p.name for p in self.every)
        raise InvalidInput("pipeline", name, detail=f"no such pipeline; there are {known}")


class ImportError_(CrmError):
    code = "import_refused"

    def __init__(self, errors: list[RowError]) -> None:
        lines = "; ".join(str(e) for e in errors[:20]) + (
            f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        )
        super().__init__(f"Nothing was imported: {len(errors)} bad row(s): {lines}.", errors=errors)
        self.errors = errors


class UnreadableCsv(CrmError):
    code = "unreadable_csv"

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"Nothing was imported: line {line} cannot be read as CSV: {reason}.", line=line)


def neutralised(cell: str) -> str:
    """The cell as written to a CSV file: one a spreadsheet would run as a formula gets a leading "'"."""
    if _FORMULA.match(cell) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restored(cell: str) -> str:
    """The cell's text as it was before ``neutralised``."""
    if cell.startswith("'") and _FORMULA.match(cell):
        return cell[1:]
    return cell


def _cell(value: object) -> str:
    # a row longer than the header puts its extra cells in a list under the key None: not ours to read
    return restored(value.strip()) if isinstance(value, str) else ""


def _unreadable(reader: csv.DictReader[str], error: csv.Error) -> UnreadableCsv:
    line = reader.line_num + 1  # the reader counts the lines it has finished; this one it has not
    if "field larger than field limit" in str(error):
        return UnreadableCsv(line, f"a field is longer than {csv.field_size_limit()} characters")
    return UnreadableCsv(line, str(error))


class TransferService(ServiceBase):
    async def export_csv(self, *, actor: User | None = None) -> Iterator[str]:
        """Every deal the actor may see (all, for the admin) as CSV lines, header first."""
        if actor is not None:
            require_boss(actor, "export deals")
        async with self.db.uow(write=False, long=True) as uow:
            admin = actor or ADMIN
            deals = await uow.deals.list_all(viewer=admin)
            pipelines = {p.id: p.name for p in await uow.pipelines.all()}
            defs = await uow.fields.definitions()
            values = await many_deal_field_values(uow, deals) if defs else {}
        return _csv_lines(deals, pipelines, defs, values)

    async def import_csv(self, text: str, *, skip_bad: bool = False) -> ImportResult:
        """Check every row first; import nothing if any is bad, unless ``skip_bad``."""
        reader = csv.DictReader(io.StringIO(text))
        try:
            return await self._import(reader, skip_bad=skip_bad)
        except csv.Error as error:
            raise _unreadable(reader, error) from None

    async def _import(self, reader: csv.DictReader[str], *, skip_bad: bool) -> ImportResult:
        if not reader.fieldnames or "title" not in [f.strip() for f in reader.fieldnames]:
            raise InvalidInput(
                "CSV file", "header", detail="the first line must name the columns, with at least `title`"
            )
        now = self.now()
        async with self.db.uow() as uow:
            pipelines = _Pipelines(await default_pipeline(uow), await uow.pipelines.all())
            users = {u.telegram_id: u for u in await uow.users.list()}
            defs = await uow.fields.definitions()
            rows, errors = [], []
            for index, raw in enumerate(reader):
                # A quoted value may span lines: report the line the row starts on, where people look.
                line = reader.line_num - sum(v.count("\n") for v in raw.values() if isinstance(v, str))
                if index >= MAX_IMPORT_ROWS:
                    errors.append(RowError(line, f"more than {MAX_IMPORT_ROWS} rows; split the file"))
                    break
                try:
                    cells = {(k or "").strip(): _cell(v) for k, v in raw.items()}
                    row = self._check_row(line, cells, pipelines, users)
                    row.fields = self._check_fields(cells, defs)
                    rows.append(row)
                except CrmError as error:
                    errors.append(RowError(line, str(error).rstrip(".")))
            if errors and not skip_bad:
                raise ImportError_(errors)
            joined = []
            for row in rows:
                _, customer = await insert_row(uow, row, now, because=f"import line {row.line}")
                if customer is not None:
                    joined.append(RowJoin(row.line, customer))
            await uow.commit()
        return ImportResult(len(rows), errors, joined)

    def _check_fields(self, cells: dict[str, str], defs: list[FieldDef]) -> list[tuple[FieldDef, Values]]:
        """The row's values of the team's fields: columns named by their keys."""
        region = self.config.default_region
        return [(d, d.parse(cells[d.key], region=region)) for d in defs if cells.get(d.key, "").strip()]

    def _check_row(
        self, line: int, raw: dict[str, str], pipelines: _Pipelines, users: dict[int, User]
    ) -> _Row:
        title = valid_title(raw.get("title", ""))
        pipeline = pipelines.named(raw.get("pipeline", ""))
        stage = pipeline.find(raw["stage"]) if raw.get("stage", "").strip() else pipeline.inbox
        owner = None
        if raw.get("owner_telegram_id", "").strip():
            text = raw["owner_telegram_id"].strip()
            if not text.isdigit() or int(text) not in users:
                raise NotFound("user", text)
            owner = users[int(text)]
        phone = raw.get("phone", "").strip()
        lost_reason = raw.get("lost_reason", "").strip() or None
        if stage.kind is StageKind.LOST and not lost_reason:
            raise InvalidInput("lost_reason", "", detail="a deal in a lost stage needs a reason")
        priority_text = raw.get("priority", "").strip().lower() or "normal"
        try:
            priority = Priority(priority_text)
        except ValueError:
            raise InvalidInput("priority", priority_text, Why.PRIORITY) from None
        created_text = raw.get("created_at", "").strip()
        created_at = None
        if created_text:
            try:
                created_at = datetime.fromisoformat(created_text)
            except ValueError:
                raise InvalidInput("created_at", created_text, detail="ISO 8601 expected") from None
            created_at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        name = raw.get("contact_name", "").strip()
        return _Row(
            line=line,
            title=title,
            pipeline=pipeline,
            stage_id=stage.id,
            owner=owner,
            contact_name=valid_name(name) if name else None,
            phone=to_e164(phone, region=self.config.default_region) if phone else None,
            amount=parse_amount(raw["amount"]) if raw.get("amount", "").strip() else None,
            currency=valid_currency(raw["currency"])
            if raw.get("currency", "").strip()
            else self.config.default_currency,
            priority=priority,
            created_at=created_at,
            lost_reason=lost_reason if stage.kind is StageKind.LOST else None,
        )


async def insert_row(
    uow: UnitOfWork, row: _Row, now: datetime, *, because: str
) -> tuple[Deal, KnownCustomer | None]:
    """Add the row's deal; the known customer its phone belonged to, if it did."""
    pipeline = row.pipeline
    contact: Contact | None = None
    customer = await known_customer(uow, row.phone, viewer=ADMIN) if row.phone else None
    if customer is not None:
        contact = customer.contact
    if contact is None and (row.phone or row.contact_name):
        contact = await uow.contacts.add(name=row.contact_name, phone=row.phone, company=row.company, at=now)
    at = min(row.created_at or now, now)
    deal = Deal.start(
        pipeline=pipeline,
        title=row.title,
        currency=row.currency,
        at=at,
        stage=pipeline.stage(row.stage_id),
        source=Source.IMPORT,
        priority=row.priority,
        amount=row.amount,
        contact=contact,
        owner=row.owner,
        lost_reason=row.lost_reason,
    )
    if deal.closed_at is not None and row.closed_at is not None:
        deal.closed_at = deal.stage_entered_at = max(at, min(row.closed_at, now))
    await uow.deals.add(deal)
    await uow.events.add(deal.created_event(Actor.system_because(because)))
    await set_field_values(uow, deal, row.fields, now)
    return deal, customer


async def set_field_values(
    uow: UnitOfWork, deal: Deal, fields: list[tuple[FieldDef, Values]], now: datetime
) -> None:
    """Store the deal's (and its contact's) values of the team's fields."""
    for definition, values in fields:
        owner_id = deal.id
        if definition.entity is FieldEntity.CONTACT:
            if deal.contact is None:
                deal.contact = await uow.contacts.add(name=None, phone=None, company=None, at=now)
                await uow.deals.save(deal)
            owner_id = deal.contact.id
        await uow.fields.set_value(definition.entity, owner_id, definition.key, values)


def _csv_lines(
    deals: list[Deal],
    pipelines: dict[int, str],
    defs: list[FieldDef],
    values: dict[int, dict[str, Values]],
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush(values: list[Any]) -> str:
        writer.writerow([neutralised(v) if isinstance(v, str) else v for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield flush(EXPORT_COLUMNS + [f.key for f in defs])
    for d in deals:
        mine = values.get(d.id, {})
        yield flush(
            [
                d.id,
                d.title,
                pipelines.get(d.pipeline_id, ""),
                d.stage.name,
                d.owner.telegram_id if d.owner else "",
                d.owner.name if d.owner else "",
                d.contact.name if d.contact and d.contact.name else "",
                d.contact.phone if d.contact and d.contact.phone else "",
                format_amount(d.amount) or "",
                d.currency,
                d.source.value,
                d.priority.value,
                d.created_at.isoformat(),
                d.stage_entered_at.isoformat(),
                d.closed_at.isoformat() if d.closed_at else "",
                d.lost_reason_text or "",
                *(f.as_text(mine.get(f.key, ())) for f in defs),
            ]
        )
