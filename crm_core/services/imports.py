"""Deals from another CRM's export: every row checked first, the deals it had added or brought up to date.

The product's columns are read by ``crm_core.domain.imports``; this service checks each row against the
team's funnel, users and fields, then writes them all in one transaction (or none: a bad row refuses the
whole file unless ``skip_bad``). A deal keeps its id in the product (``deal_external_ids``), so importing
the same export again changes the deals it made instead of adding them twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Priority
from crm_core.domain.errors import CrmError, InvalidInput
from crm_core.domain.fields import FieldDef, Values
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.imports import (
    Header,
    ImportRow,
    Outcome,
    Product,
    StageMapping,
    email_name,
    map_row,
    parse_when,
    read_header,
    same_name,
)
from crm_core.domain.phones import to_e164
from crm_core.domain.users import User, valid_name
from crm_core.domain.values import MAX_NOTE, parse_amount, valid_currency, valid_title
from crm_core.services.base import ServiceBase, default_pipeline, require_boss
from crm_core.services.deals import known_customer
from crm_core.services.transfer import (
    ADMIN,
    MAX_IMPORT_ROWS,
    ImportedDeal,
    ImportError_,
    RowError,
    RowJoin,
    insert_row,
    set_field_values,
)
from crm_core.services.unit_of_work import UnitOfWork

PROGRESS_EVERY = 500  # rows between two progress reports


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or (``dry_run``) would do."""

    product: Product
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    unmapped_stages: dict[str, int]  # "Pipeline / Stage" of the product: how many rows are in it
    unknown_owners: dict[str, int]  # the product's user: how many rows they own (imported unowned)
    notes: int  # deals whose custom columns went into a note
    joined: list[RowJoin] = field(default_factory=list)


class UnmappedStages(ImportError_):
    """Rows in stages Kanbot cannot place: the file is refused whole, the stages listed."""

    def __init__(self, errors: list[RowError], unmapped: dict[str, int]) -> None:
        super().__init__(errors)
        self.unmapped = unmapped


@dataclass(slots=True)
class _Checked:
    source: ImportRow
    row: ImportedDeal
    note: str | None


class _Funnel:
    """The team's pipelines and users, as a product's rows name them."""

    def __init__(
        self,
        product: Product,
        mapping: StageMapping,
        default: Pipeline,
        every: list[Pipeline],
        users: list[User],
    ) -> None:
        self.product, self.mapping, self.default, self.every = product, mapping, default, every
        self.users = [u for u in users if u.active]

    def pipeline(self, name: str) -> Pipeline:
        wanted = self.mapping.pipeline_for(name) or name
        for pipeline in self.every:
            if wanted and same_name(pipeline.name, wanted):
                return pipeline
        if self.mapping.pipeline:
            for pipeline in self.every:
                if same_name(pipeline.name, self.mapping.pipeline):
                    return pipeline
            known = ", ".join(p.name for p in self.every)
            raise InvalidInput("mapping file `pipeline`", self.mapping.pipeline, detail=f"there are {known}")
        return self.default

    def stage(self, pipeline: Pipeline, row: ImportRow) -> Stage | None:
        """The Kanbot stage of the row; None when its stage is not mapped."""
        if row.outcome is Outcome.WON:
            return pipeline.won
        if row.outcome is Outcome.LOST:
            return pipeline.lost
        if not row.stage:
            return pipeline.inbox
        wanted = self.mapping.stage_for(row.pipeline, row.stage) or row.stage
        for stage in pipeline.stages:
            if same_name(stage.name, wanted):
                return stage if stage.is_open else None  # a stage name alone never closes a deal
        return None

    def owner(self, text: str) -> User | None:
        if not text:
            return None
        wanted = self.mapping.owner_for(text) or text
        for user in self.users:
            if wanted.isdigit() and user.telegram_id == int(wanted):
                return user
            if same_name(user.name, wanted):
                return user
        spelt = email_name(wanted)
        matching = [u for u in self.users if spelt and same_name(u.name, spelt)]
        if len(matching) == 1:
            return matching[0]
        first = [u for u in self.users if spelt and same_name(u.name.split()[0], spelt)]
        return first[0] if len(first) == 1 else None


class ImportService(ServiceBase):
    async def import_from(
        self,
        product: Product,
        lines: Iterable[tuple[int, Sequence[str]]],
        *,
        mapping: StageMapping | None = None,
        dry_run: bool = False,
        skip_bad: bool = False,
        actor: User | None = None,
        progress: Callable[[int], None] | None = None,
        progress_every: int = PROGRESS_EVERY,
    ) -> ImportReport:
        """Import ``lines`` (the file's line number and cells, the header first) of ``product``'s export.

        ``progress`` hears how many rows are checked, then written, every ``progress_every`` rows."""
        if actor is not None:
            require_boss(actor, "import deals")
        mapping = mapping or StageMapping()
        rows = iter(lines)
        first = next(rows, None)
        if first is None:
            raise InvalidInput(f"{product.label} export", "", detail="the file is empty")
        header = read_header(product, first[1])
        now = self.now()
        async with self.db.uow(write=not dry_run, long=True) as uow:
            funnel = _Funnel(
                product,
                mapping,
                await default_pipeline(uow),
                await uow.pipelines.all(),
                await uow.users.list(),
            )
            defs = await uow.fields.definitions()
            checked, errors, unmapped, unknown = self._check_all(
                header, rows, funnel, defs, progress, progress_every
            )
            existing = await uow.external_ids.deals_of(product.value, [c.source.external_id for c in checked])
            if errors and not skip_bad and not dry_run:
                if unmapped:
                    raise UnmappedStages(errors, unmapped)
                raise ImportError_(errors)
            report = ImportReport(
                product=product,
                dry_run=dry_run,
                created=sum(1 for c in checked if c.source.external_id not in existing),
                updated=0,
                unchanged=0,
                errors=errors,
                unmapped_stages=unmapped,
                unknown_owners=unknown,
                notes=sum(1 for c in checked if c.note),
            )
            if dry_run:
                return _with(report, updated=len(checked) - report.created)
            created = updated = unchanged = 0
            joined: list[RowJoin] = []
            because = f"import from {product.label}"
            for done, item in enumerate(checked, start=1):
                deal_id = existing.get(item.source.external_id)
                if deal_id is None:
                    deal, customer = await insert_row(
                        uow, item.row, now, because=f"{because} line {item.row.line}"
                    )
                    await uow.external_ids.add(product.value, item.source.external_id, deal.id, at=now)
                    existing[item.source.external_id] = deal.id
                    if item.note:
                        await uow.events.add(
                            DealEvent.new(
                                deal, EventKind.NOTE, now, Actor.system_because(because), text=item.note
                            )
                        )
                    if customer is not None:
                        joined.append(RowJoin(item.row.line, customer))
                    created += 1
                elif await self._update(uow, deal_id, item, funnel, now, Actor.system_because(because)):
                    updated += 1
                else:
                    unchanged += 1
                if progress is not None and done % progress_every == 0:
                    progress(done)
            await uow.commit()
        return _with(report, created=created, updated=updated, unchanged=unchanged, joined=joined)

    def _check_all(
        self,
        header: Header,
        rows: Iterable[tuple[int, Sequence[str]]],
        funnel: _Funnel,
        defs: list[FieldDef],
        progress: Callable[[int], None] | None,
        every: int,
    ) -> tuple[list[_Checked], list[RowError], dict[str, int], dict[str, int]]:
        checked: list[_Checked] = []
        errors: list[RowError] = []
        unmapped: Counter[str] = Counter()
        unknown: Counter[str] = Counter()
        seen: dict[str, int] = {}
        for index, (line, cells) in enumerate(rows):
            if not any(c.strip() for c in cells):
                continue  # a blank line: spreadsheets leave them at the end
            if index >= MAX_IMPORT_ROWS:
                errors.append(RowError(line, f"more than {MAX_IMPORT_ROWS} rows; split the file"))
                break
            try:
                source = map_row(header, line, cells)
                if not source.external_id:
                    raise InvalidInput(
                        "ID", "", detail="every deal needs its id, to be found again next time"
                    )
                if source.external_id in seen:
                    raise InvalidInput(
                        "ID", source.external_id, detail=f"the same deal as line {seen[source.external_id]}"
                    )
                seen[source.external_id] = line
                pipeline = funnel.pipeline(source.pipeline)
                stage = funnel.stage(pipeline, source)
                if stage is None:
                    named = f"{source.pipeline} / {source.stage}" if source.pipeline else source.stage
                    unmapped[named] += 1
                    raise InvalidInput(
                        "stage",
                        named,
                        detail=f"no such open stage in {pipeline.name}; map it with --map-stages",
                    )
                owner = funnel.owner(source.owner)
                if source.owner and owner is None:
                    unknown[source.owner] += 1
                checked.append(self._check_row(source, pipeline, stage, owner, defs, header.product.label))
            except CrmError as error:
                errors.append(RowError(line, str(error).rstrip(".")))
            if progress is not None and (index + 1) % every == 0:
                progress(index + 1)
        return checked, errors, dict(unmapped), dict(unknown)

    def _check_row(
        self,
        source: ImportRow,
        pipeline: Pipeline,
        stage: Stage,
        owner: User | None,
        defs: list[FieldDef],
        funnel_label: str,
    ) -> _Checked:
        region = self.config.default_region
        lost_reason = None
        if stage.kind is StageKind.LOST:
            lost_reason = (source.lost_reason or f"Lost in {funnel_label}")[:200]
        fields: list[tuple[FieldDef, Values]] = []
        left: list[tuple[str, str]] = []
        for name, value in source.extras:
            definition = _field_named(defs, name)
            if definition is None:
                left.append((name, value))
            else:
                fields.append((definition, definition.parse(value, region=region)))
        note = None
        if left:
            lines = [f"{name}: {value}" for name, value in left]
            note = "\n".join([f"From {funnel_label}:", *lines])[:MAX_NOTE]
        row = ImportedDeal(
            line=source.line,
            title=valid_title(source.title),
            pipeline=pipeline,
            stage_id=stage.id,
            owner=owner,
            contact_name=valid_name(source.contact_name) if source.contact_name else None,
            phone=to_e164(source.phone, region=region) if source.phone else None,
            amount=parse_amount(source.amount) if source.amount else None,
            currency=valid_currency(source.currency) if source.currency else self.config.default_currency,
            priority=Priority.NORMAL,
            created_at=parse_when(source.created_at, what="created"),
            lost_reason=lost_reason,
            fields=fields,
            closed_at=parse_when(source.closed_at, what="closed") if stage.is_closed else None,
            company=source.company[:200] or None,
        )
        return _Checked(source, row, note)

    async def _update(
        self, uow: UnitOfWork, deal_id: int, item: _Checked, funnel: _Funnel, now: datetime, actor: Actor
    ) -> bool:
        """Bring the deal imported before up to date with the row; whether anything changed."""
        deal = await uow.deals.get(deal_id)
        if deal is None:
            return False
        row = item.row
        events: list[DealEvent] = []
        for name, value in (("title", row.title), ("amount", row.amount), ("currency", row.currency)):
            if getattr(deal, name) != value:
                events.append(deal.edit(name, value, at=now, actor=actor))
        if deal.owner_id != (row.owner.id if row.owner else None) and row.owner is not None:
            events.append(deal.reassign(row.owner, at=now, actor=actor))
        target = row.pipeline.stage(row.stage_id)
        if deal.pipeline_id != row.pipeline.id:
            current = next(p for p in funnel.every if p.id == deal.pipeline_id)
            if deal.is_closed:
                events.append(deal.reopen(current, at=now, actor=actor))
            events.append(
                deal.change_pipeline(
                    current, row.pipeline, at=now, actor=actor, stage=target if target.is_open else None
                )
            )
        if deal.stage.id != target.id:
            if deal.is_closed:
                events.append(deal.reopen(row.pipeline, at=now, actor=actor))
            if deal.stage.id != target.id:
                events.append(deal.move_to(target, at=now, actor=actor, lost_reason=row.lost_reason))
        elif target.kind is StageKind.LOST and deal.lost_reason != row.lost_reason:
            events.append(deal.edit("lost_reason", row.lost_reason, at=now, actor=actor))
        if deal.contact is None and (row.phone or row.contact_name):
            customer = await known_customer(uow, row.phone, viewer=ADMIN) if row.phone else None
            contact: Contact | None = customer.contact if customer else None
            if contact is None:
                contact = await uow.contacts.add(
                    name=row.contact_name, phone=row.phone, company=row.company, at=now
                )
            deal.contact = contact
            events.append(
                DealEvent.new(deal, EventKind.EDITED, now, actor, field="contact", new=str(contact.id))
            )
        if item.note:
            last = await uow.events.last_of(deal.id, [EventKind.NOTE])
            if last is None or last.data.get("text") != item.note:
                deal.touch(now)
                events.append(DealEvent.new(deal, EventKind.NOTE, now, actor, text=item.note))
        if events:
            await uow.deals.save(deal)
            await uow.events.add(*events)
        if row.fields:
            await set_field_values(uow, deal, row.fields, now)
        return bool(events)


def _field_named(defs: list[FieldDef], header: str) -> FieldDef | None:
    """The team's field a custom column is: by key or by name in any language, the product's "Deal - "
    prefix aside."""
    name = header.removeprefix("Deal - ").strip()
    for definition in defs:
        if same_name(definition.key, name) or any(same_name(n, name) for n in definition.names.values()):
            return definition
    return None


def _with(report: ImportReport, **changes: object) -> ImportReport:
    return replace(report, **changes)  # type: ignore[arg-type]
