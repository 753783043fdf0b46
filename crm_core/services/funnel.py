"""Configuring the funnel: seeding the default one, showing it, and applying a funnel file."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from crm_core.domain.errors import InvalidInput
from crm_core.domain.funnel import (
    DEFAULT_FUNNEL,
    DEFAULT_LOST_REASONS,
    Pipeline,
    Stage,
    StageKind,
    StageSpec,
)
from crm_core.domain.history import Actor, EventKind
from crm_core.domain.users import User
from crm_core.services.base import (
    ServiceBase,
    default_pipeline,
    find_pipeline,
    pipeline_of,
    require_active,
    require_boss,
)
from crm_core.services.deal_changes import close_tasks
from crm_core.services.funnel_file import (
    DEFAULT_PIPELINE_NAME,
    FunnelSpec,
    FunnelsSpec,
    funnel_document,
    funnel_spec_from_document,
    funnels_document,
    funnels_spec_from_document,
)
from crm_core.services.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_PIPELINE_NAME",
    "FunnelSpec",
    "FunnelsSpec",
    "PipelineService",
    "funnel_document",
    "funnel_spec_from_document",
    "funnels_document",
    "funnels_spec_from_document",
]


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
        """The funnel file: today's one-pipeline form while there is one pipeline, else every one."""
        if actor is not None:
            require_active(actor)
        async with self.db.uow(write=False) as uow:
            pipelines = await uow.pipelines.all()
            if not pipelines:
                await default_pipeline(uow)  # none yet: refused, saying to run `kanbot init`
            return funnels_document(pipelines, await uow.lost_reasons.active())

    async def apply(self, spec: FunnelSpec | FunnelsSpec, *, actor: User | None = None) -> Pipeline:
        """Make the funnel look like the file ``spec``, all or nothing: its pipelines, in its order;
        a stored pipeline the file leaves out is removed, its deals moved where ``move_pipelines``
        says (refused when it holds deals and the file does not say). Returns the default pipeline."""
        if actor is not None:
            require_boss(actor, "configure the funnel")
        file = spec if isinstance(spec, FunnelsSpec) else FunnelsSpec([spec], single=True)
        if not isinstance(spec, FunnelsSpec):
            file = replace(file, lost_reasons=spec.lost_reasons)
        now = self.now()
        who = Actor.of(actor) if actor else Actor.system_because("admin: pipeline apply")
        async with self.db.uow() as uow:
            stored = await uow.pipelines.all()
            matched = _match_pipelines(stored, file)
            removed = [p for p in stored if p.id not in matched.values()]
            moves = await _check_pipeline_removals(uow, removed, file)
            await uow.pipelines.park_names()
            for pipeline in stored:
                await uow.pipelines.set_numbers(pipeline.id, [])
            kept: dict[str, Pipeline] = {}
            for position, one in enumerate(file.pipelines, start=1):
                existing = matched.get(position - 1)
                if existing is None:
                    created = await self._create(uow, one, position)
                else:
                    await uow.pipelines.update(
                        existing, name=one.name, is_default=one.is_default, position=position
                    )
                    current = await pipeline_of(uow, existing)
                    created = await self._apply_stages(uow, current, one, now=now, who=who)
                await uow.pipelines.set_numbers(created.id, one.numbers)
                kept[one.name.casefold()] = created
            for old in removed:
                await self._carry_deals(uow, old, moves[old.id], kept, now=now, who=who)
                await uow.pipelines.delete(old.id)
            if file.lost_reasons:
                await uow.lost_reasons.replace(file.lost_reasons)
            final = await default_pipeline(uow)
            await uow.commit()
        return final

    async def _create(self, uow: UnitOfWork, spec: FunnelSpec, position: int) -> Pipeline:
        for stage in spec.stages:
            if stage.id is not None:
                raise InvalidInput(
                    f"id of stage {stage.name!r} of pipeline {spec.name!r}",
                    stage.id,
                    detail="a new pipeline's stages are new: leave their ids out",
                )
        return await uow.pipelines.create(
            spec.name, spec.stages, is_default=spec.is_default, position=position
        )

    async def _apply_stages(
        self, uow: UnitOfWork, current: Pipeline, spec: FunnelSpec, *, now: datetime, who: Actor
    ) -> Pipeline:
        """Make the stored pipeline ``current`` have the stages of ``spec``."""
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
        updated = await pipeline_of(uow, current.id)
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
        return await pipeline_of(uow, current.id)

    async def _carry_deals(
        self,
        uow: UnitOfWork,
        old: Pipeline,
        where: tuple[str, str | None] | None,
        kept: dict[str, Pipeline],
        *,
        now: datetime,
        who: Actor,
    ) -> None:
        """Move the deals of the removed pipeline ``old`` to the pipeline (and stage) ``where`` names."""
        if where is None:
            return
        to = kept[where[0].casefold()]
        stage = to.find(where[1]) if where[1] is not None else None
        for deal_id in await uow.deals.ids_in_pipeline(old.id):
            deal = await uow.deals.get(deal_id)
            assert deal is not None
            if deal.is_closed:
                event = deal.carry_closed(old, to, at=now, actor=who)
            else:
                event = deal.change_pipeline(old, to, at=now, actor=who, stage=stage)
            await uow.events.add(event)
            await uow.deals.save(deal)

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


def _match_pipelines(stored: builtins.list[Pipeline], file: FunnelsSpec) -> dict[int, int]:
    """Which stored pipeline each of the file's (by index) updates: by id when given, else by name;
    today's one-pipeline file describes the default pipeline, whatever its name."""
    if file.single:
        default = next((p for p in stored if p.is_default), stored[0] if stored else None)
        return {0: default.id} if default is not None else {}
    return _match_by_id_or_name(
        [(p.id, p.name) for p in stored],
        [(spec.id, spec.name) for spec in file.pipelines],
        unknown=lambda spec_id, name: InvalidInput(
            f"id of pipeline {name!r}", spec_id, detail="no such pipeline in the current funnel"
        ),
        twice=InvalidInput(
            "pipelines", "id", detail="two pipelines of the file point at the same stored pipeline"
        ),
    )


def _match_by_id_or_name(
    stored: builtins.list[tuple[int, str]],
    specs: builtins.list[tuple[int | None, str]],
    *,
    unknown: Callable[[int, str], InvalidInput],
    twice: InvalidInput,
) -> dict[int, int]:
    """Which stored item (id, name) each of the file's (by index) updates: by id when the file gives
    one (``unknown`` when no such item is stored), else by name, any case; ``twice`` when two of the
    file's point at the same stored item."""
    by_name = {name.casefold(): item_id for item_id, name in stored}
    known = {item_id for item_id, _ in stored}
    matched: dict[int, int] = {}
    for index, (spec_id, name) in enumerate(specs):
        if spec_id is not None:
            if spec_id not in known:
                raise unknown(spec_id, name)
            matched[index] = spec_id
        elif name.casefold() in by_name:
            matched[index] = by_name[name.casefold()]
    if len(set(matched.values())) != len(matched):
        raise twice
    return matched


async def _check_pipeline_removals(
    uow: UnitOfWork, removed: builtins.list[Pipeline], file: FunnelsSpec
) -> dict[int, tuple[str, str | None] | None]:
    """For each stored pipeline the file leaves out, where its deals go: (pipeline, stage or None),
    None when it holds none; refused when it holds deals and the file does not say, or says wrong."""
    moves = {k.strip().casefold(): v for k, v in file.move_pipelines.items()}
    names = {p.name.casefold(): p for p in file.pipelines}
    result: dict[int, tuple[str, str | None] | None] = {}
    for old in removed:
        count = len(await uow.deals.ids_in_pipeline(old.id))
        if not count:
            result[old.id] = None
            continue
        target = moves.get(old.name.casefold())
        if target is None:
            raise InvalidInput(
                "pipelines",
                old.name,
                detail=f"pipeline {old.name!r} still holds {count} deal(s); say where they go with "
                f"`move_pipelines: {{{old.name!r}: <pipeline> or <pipeline>/<stage>}}`",
            )
        name, _, stage = target.partition("/")
        spec = names.get(name.strip().casefold())
        if spec is None:
            raise InvalidInput(
                f"move_pipelines of {old.name!r}", target, detail="no pipeline of that name in the file"
            )
        if stage.strip():
            found = next((s for s in spec.stages if s.name.casefold() == stage.strip().casefold()), None)
            if found is None or found.kind in (StageKind.WON, StageKind.LOST):
                raise InvalidInput(
                    f"move_pipelines of {old.name!r}",
                    target,
                    detail=f"no open stage of that name in pipeline {spec.name!r}",
                )
            result[old.id] = (spec.name, found.name)
        else:
            result[old.id] = (spec.name, None)
    return result


def _where_deals_go(spec: FunnelSpec, removed: Stage, stages: list[Stage]) -> Stage | None:
    """The stage the file sends a removed stage's deals to (``stages``: the file's, as stored), if any."""
    name = {k.casefold(): v for k, v in spec.move_deals.items()}.get(removed.name.casefold())
    return next((s for s in stages if name is not None and s.name.casefold() == name.casefold()), None)


def _match_stages(current: Pipeline, specs: list[StageSpec]) -> dict[int, int]:
    """Which stored stage each spec (by index) updates: by id when given, else by name."""
    return _match_by_id_or_name(
        [(s.id, s.name) for s in current.stages],
        [(spec.id, spec.name) for spec in specs],
        unknown=lambda spec_id, _name: InvalidInput(
            "stage id", spec_id, detail="no such stage in the current funnel"
        ),
        twice=InvalidInput(
            "funnel file", "stages", detail="two stages of the file point at the same stored stage"
        ),
    )
