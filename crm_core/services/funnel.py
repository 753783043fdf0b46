"""Configuring the funnel: seeding the default one, showing it, and applying a funnel file."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_core.domain.durations import format_duration, parse_duration
from crm_core.domain.errors import InvalidInput
from crm_core.domain.funnel import (
    DEFAULT_FUNNEL,
    DEFAULT_LOST_REASONS,
    Pipeline,
    Stage,
    StageKind,
    StageSpec,
    check_stage_specs,
)
from crm_core.domain.history import Actor, EventKind
from crm_core.domain.users import User
from crm_core.services.base import (
    ServiceBase,
    default_pipeline,
    find_pipeline,
    require_active,
    require_boss,
)
from crm_core.services.deal_changes import close_tasks
from crm_core.services.unit_of_work import UnitOfWork

DEFAULT_PIPELINE_NAME = "Sales"


@dataclass(frozen=True, slots=True)
class FunnelSpec:
    """A funnel file, read: the stages in order, where removed stages' deals go, the lost reasons."""

    name: str
    stages: list[StageSpec]
    move_deals: dict[str, str] = field(default_factory=dict)
    lost_reasons: list[str] | None = None


def funnel_spec_from_document(doc: Any) -> FunnelSpec:
    """Read a funnel document (parsed YAML), refusing anything malformed with the field it concerns."""
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), list):
        raise InvalidInput("funnel file", "stages", detail="a mapping with a `stages:` list is required")
    specs = []
    for index, item in enumerate(doc["stages"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput(f"stage #{index}", item, detail="each stage needs a `name:`")
        try:
            kind = StageKind(str(item.get("kind", "open")).lower())
        except ValueError:
            raise InvalidInput(
                f"kind of stage {item['name']!r}", item.get("kind"), detail="inbox, open, won or lost"
            ) from None
        probability = item.get("probability", 0)
        if not isinstance(probability, int) or isinstance(probability, bool):
            raise InvalidInput(
                f"probability of stage {item['name']!r}", probability, detail="a whole number 0-100"
            )
        stage_id = item.get("id")
        if stage_id is not None and (not isinstance(stage_id, int) or isinstance(stage_id, bool)):
            raise InvalidInput(f"id of stage {item['name']!r}", stage_id)
        specs.append(
            StageSpec(
                name=item["name"].strip(),
                kind=kind,
                follow_up_after=parse_duration(item.get("follow_up")),
                playbook=str(item.get("playbook") or ""),
                probability=probability,
                id=stage_id,
            )
        )
    moves = doc.get("move_deals") or {}
    if not isinstance(moves, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in moves.items()
    ):
        raise InvalidInput(
            "move_deals", moves, detail="a mapping of removed stage name to the stage its deals go to"
        )
    reasons = doc.get("lost_reasons")
    if reasons is not None and (
        not isinstance(reasons, list)
        or not reasons
        or not all(isinstance(r, str) and 0 < len(r.strip()) <= 100 for r in reasons)
    ):
        raise InvalidInput(
            "lost_reasons", reasons, detail="a non-empty list of texts of at most 100 characters"
        )
    check_stage_specs(specs)
    name = str(doc.get("pipeline") or DEFAULT_PIPELINE_NAME).strip()
    return FunnelSpec(
        name=name,
        stages=specs,
        move_deals=dict(moves),
        lost_reasons=[r.strip() for r in reasons] if reasons else None,
    )


def funnel_document(pipeline: Pipeline, reasons: list[str]) -> dict[str, Any]:
    """The funnel as a document `kanbot pipeline apply` reads back unchanged."""
    return {
        "pipeline": pipeline.name,
        "stages": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind.value,
                "follow_up": format_duration(s.follow_up_after),
                "playbook": s.playbook,
                "probability": s.probability,
            }
            for s in pipeline.stages
        ],
        "lost_reasons": reasons,
    }


class PipelineService(ServiceBase):
    async def seed_defaults(self) -> Pipeline:
        """Create the default funnel and lost reasons unless a funnel exists: harmless to run twice."""
        async with self.db.uow() as uow:
            pipeline = await uow.pipelines.default()
            if pipeline is None:
                pipeline = await uow.pipelines.create(
                    DEFAULT_PIPELINE_NAME, list(DEFAULT_FUNNEL), is_default=True
                )
            if not await uow.lost_reasons.active():
                await uow.lost_reasons.ensure(list(DEFAULT_LOST_REASONS))
            await uow.commit()
        return pipeline

    async def default(self) -> Pipeline:
        async with self.db.uow(write=False) as uow:
            return await default_pipeline(uow)

    async def get(self, ref: str | int | None = None) -> Pipeline:
        """A pipeline by id or name (case-insensitive), the default one when ``ref`` is None;
        ``NotFound`` when there is none such, ``InvalidInput`` for a reference that cannot be one."""
        async with self.db.uow(write=False) as uow:
            return await find_pipeline(uow, ref)

    async def list(self) -> builtins.list[Pipeline]:
        """Every pipeline: the default first, then in the funnel file's order."""
        async with self.db.uow(write=False) as uow:
            return await uow.pipelines.all()

    async def for_did(self, did: str | None) -> Pipeline:
        """The pipeline a call to ``did`` opens its deal in: the one listing it, else the default."""
        async with self.db.uow(write=False) as uow:
            pipeline_id = await uow.pipelines.for_did(did) if did else None
            if pipeline_id is not None:
                return await find_pipeline(uow, pipeline_id)
            return await default_pipeline(uow)

    async def lost_reasons(self) -> builtins.list[str]:
        async with self.db.uow(write=False) as uow:
            return await uow.lost_reasons.active()

    async def document(self, *, actor: User | None = None) -> dict[str, Any]:
        if actor is not None:
            require_active(actor)
        async with self.db.uow(write=False) as uow:
            return funnel_document(await default_pipeline(uow), await uow.lost_reasons.active())

    async def apply(self, spec: FunnelSpec, *, actor: User | None = None) -> Pipeline:
        """Make the default funnel look like ``spec``; all or nothing."""
        if actor is not None:
            require_boss(actor, "configure the funnel")
        now = self.now()
        who = Actor.of(actor) if actor else Actor.system_because("admin: pipeline apply")
        async with self.db.uow() as uow:
            current = await default_pipeline(uow)
            matched = _match_stages(current, spec.stages)
            removed = [s for s in current.stages if s.id not in matched.values()]
            await self._check_kind_changes(uow, current, spec.stages, matched)
            targets = await self._check_removals(uow, current, spec, removed, matched)
            await uow.pipelines.park_stage_names(current.id)
            ids: builtins.list[int] = []
            for position, stage_spec in enumerate(spec.stages, start=1):
                existing = matched.get(position - 1)
                if existing is None:
                    ids.append(await uow.pipelines.add_stage(current.id, stage_spec, position))
                else:
                    await uow.pipelines.update_stage(existing, stage_spec, position)
                    ids.append(existing)
            updated = await uow.pipelines.get(current.id)
            assert updated is not None
            for old in removed:
                target = updated.stage(ids[targets[old.id]]) if old.id in targets else None
                if target is not None:
                    await self._move_all(uow, old, target, updated, now=now, who=who)
                if old.is_open:  # closed deals that would reopen there reopen where its deals go
                    instead = _where_deals_go(spec, old, [updated.stage(i) for i in ids])
                    await uow.deals.reopen_elsewhere(
                        instead_of=old.id,
                        stage_id=instead.id if instead and instead.is_open else updated.inbox.id,
                    )
            await self._refresh_follow_ups(uow, current, updated)
            for old in removed:
                await uow.pipelines.delete_stage(old.id)
            if spec.lost_reasons:
                await uow.lost_reasons.replace(spec.lost_reasons)
            final = await uow.pipelines.get(current.id)
            assert final is not None
            await uow.commit()
        return final

    async def _check_kind_changes(
        self, uow: UnitOfWork, current: Pipeline, specs: builtins.list[StageSpec], matched: dict[int, int]
    ) -> None:
        for index, stage_id in matched.items():
            old, new = current.stage(stage_id), specs[index]
            if old.is_closed != (new.kind in (StageKind.WON, StageKind.LOST)) or (
                old.is_closed and old.kind != new.kind
            ):
                count = await uow.deals.count_in_stage(stage_id)
                if count:
                    raise InvalidInput(
                        "funnel file",
                        old.name,
                        detail=f"stage {old.name!r} holds {count} deal(s), "
                        f"so it cannot change from {old.kind} to {new.kind}",
                    )

    async def _check_removals(
        self,
        uow: UnitOfWork,
        current: Pipeline,
        spec: FunnelSpec,
        removed: builtins.list[Stage],
        matched: dict[int, int],
    ) -> dict[int, int]:
        """For each removed stage that holds deals, the index in ``spec.stages`` its deals go to."""
        folded_moves = {k.casefold(): v for k, v in spec.move_deals.items()}
        targets: dict[int, int] = {}
        for old in removed:
            count = await uow.deals.count_in_stage(old.id)
            if not count:
                continue
            target_name = folded_moves.get(old.name.casefold())
            if target_name is None:
                raise InvalidInput(
                    "funnel file",
                    old.name,
                    detail=f"stage {old.name!r} still holds {count} deal(s); say where they go with "
                    f"`move_deals: {{{old.name!r}: <stage>}}`",
                )
            index = next(
                (i for i, s in enumerate(spec.stages) if s.name.casefold() == target_name.casefold()), None
            )
            if index is None:
                raise InvalidInput("move_deals", target_name, detail="no stage of that name in the file")
            targets[old.id] = index
        return targets

    async def _move_all(
        self, uow: UnitOfWork, old: Stage, target: Stage, pipeline: Pipeline, *, now: datetime, who: Actor
    ) -> None:
        for deal_id in await uow.deals.ids_in_stage(old.id):
            deal = await uow.deals.get(deal_id)
            assert deal is not None
            events = []
            if deal.is_closed and target.is_closed:
                # An admin merging two closing stages: the deal stays closed, only its column changes.
                events.append(
                    deal.stage_event(EventKind.MOVED, target, now, who, reason=f"stage {old.name} removed")
                )
                deal.stage = target
            elif deal.is_closed:  # its closing stage is removed: it reopens where the admin said
                deal.closed_from_stage_id = target.id
                events.append(deal.reopen(pipeline, at=now, actor=who))
            else:
                reason = f"Stage {old.name} removed" if target.kind is StageKind.LOST else None
                events.append(deal.move_to(target, at=now, actor=who, lost_reason=reason))
                if deal.is_closed:
                    events += await close_tasks(uow, deal, at=now, actor=who)
            await uow.events.add(*events)
            await uow.deals.save(deal)

    async def _refresh_follow_ups(self, uow: UnitOfWork, before: Pipeline, after: Pipeline) -> None:
        old = {s.id: s.follow_up_after for s in before.stages}
        for stage in after.stages:
            if stage.id in old and old[stage.id] != stage.follow_up_after:
                for deal_id in await uow.deals.ids_in_stage(stage.id):
                    deal = await uow.deals.get(deal_id)
                    if deal is not None:
                        await uow.deals.refresh_follow_up(deal)


def _where_deals_go(spec: FunnelSpec, removed: Stage, stages: list[Stage]) -> Stage | None:
    """The stage the file sends a removed stage's deals to (``stages``: the file's, as stored), if any."""
    name = {k.casefold(): v for k, v in spec.move_deals.items()}.get(removed.name.casefold())
    return next((s for s in stages if name is not None and s.name.casefold() == name.casefold()), None)


def _match_stages(current: Pipeline, specs: list[StageSpec]) -> dict[int, int]:
    """Which stored stage each spec (by index) updates: by id when given, else by name."""
    by_name = {s.name.casefold(): s.id for s in current.stages}
    known = {s.id for s in current.stages}
    matched: dict[int, int] = {}
    for index, spec in enumerate(specs):
        if spec.id is not None:
            if spec.id not in known:
                raise InvalidInput("stage id", spec.id, detail="no such stage in the current funnel")
            matched[index] = spec.id
        elif spec.name.casefold() in by_name:
            matched[index] = by_name[spec.name.casefold()]
    if len(set(matched.values())) != len(matched):
        raise InvalidInput(
            "funnel file", "stages", detail="two stages of the file point at the same stored stage"
        )
    return matched
