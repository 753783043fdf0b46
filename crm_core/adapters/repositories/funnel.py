"""Pipelines, their stages, and the list of lost reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import funnel_version, lost_reasons, pipeline_numbers, pipelines, stages
from crm_core.domain.funnel import Pipeline, Stage, StageKind, StageSpec


def stage_from_row(row: Row[Any], prefix: str = "") -> Stage:
    follow_up = getattr(row, prefix + "follow_up_s")
    return Stage(
        id=getattr(row, prefix + "id"),
        pipeline_id=getattr(row, prefix + "pipeline_id"),
        name=getattr(row, prefix + "name"),
        position=getattr(row, prefix + "position"),
        kind=StageKind(getattr(row, prefix + "kind")),
        follow_up_after=timedelta(seconds=follow_up) if follow_up is not None else None,
        playbook=getattr(row, prefix + "playbook"),
        probability=getattr(row, prefix + "probability"),
    )


def _stage_values(spec: StageSpec, position: int) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "position": position,
        "kind": spec.kind.value,
        "follow_up_s": int(spec.follow_up_after.total_seconds()) if spec.follow_up_after else None,
        "playbook": spec.playbook.strip(),
        "probability": spec.probability,
    }


# The funnel's version (migration 0019): every change of ``pipelines`` or ``stages`` bumps it.
_VERSION = select(funnel_version.c.version).where(funnel_version.c.id == 1)


def _with_stages(which: ColumnElement[bool]) -> Select[Any]:
    """The pipeline ``which`` picks and its stages, a row per stage in order, each with the funnel's
    version read in the same statement (so the version and the stages are of the same snapshot)."""
    return (
        select(
            pipelines.c.id.label("pipeline_key"),
            pipelines.c.name.label("pipeline_name"),
            pipelines.c.is_default.label("pipeline_is_default"),
            _VERSION.scalar_subquery().label("funnel_version"),
            *stages.c,
        )
        .select_from(pipelines.outerjoin(stages, stages.c.pipeline_id == pipelines.c.id))
        .where(which)
        .order_by(stages.c.position, stages.c.id)
    )


# Built once: every move, card and new deal reads a pipeline.
_DEFAULT = _with_stages(
    pipelines.c.id
    == select(pipelines.c.id)
    .order_by(pipelines.c.is_default.desc(), pipelines.c.id)
    .limit(1)
    .scalar_subquery()
)
_BY_ID = _with_stages(pipelines.c.id == bindparam("pipeline_id"))
_NUMBERS = (
    select(pipeline_numbers.c.did)
    .where(pipeline_numbers.c.pipeline_id == bindparam("pipeline_id"))
    .order_by(pipeline_numbers.c.did)
)
# Every call from a new number asks which pipeline its DID opens deals in: one primary-key lookup.
_FOR_DID = select(pipeline_numbers.c.pipeline_id).where(pipeline_numbers.c.did == bindparam("did"))
_ORDERED_IDS = select(pipelines.c.id).order_by(
    pipelines.c.is_default.desc(), pipelines.c.position, pipelines.c.id
)

_NOT_READ = object()


class PipelineCache:
    """The pipelines as of one version of the funnel, kept for the process (a ``Database`` holds one).

    A unit of work reads the version (one single-row statement) and takes the cached pipelines when
    it matches; when it does not, it reads the pipeline and the version in one statement and keeps
    them. Pipelines are immutable, so a cached one can be handed to any number of units of work.
    """

    def __init__(self) -> None:
        self.version: int | None = None
        self.default: Pipeline | None = None
        self.by_id: dict[int, Pipeline] = {}

    def keep(self, version: int | None, pipeline: Pipeline, *, default: bool) -> None:
        if version is None:  # the version's row is gone: nothing is cached until a change restores it
            self.clear()
            return
        if version != self.version:
            self.version, self.default, self.by_id = version, None, {}
        self.by_id[pipeline.id] = pipeline
        if default:
            self.default = pipeline

    def clear(self) -> None:
        self.version, self.default, self.by_id = None, None, {}


class PipelineRepository:
    def __init__(self, conn: AsyncConnection, cache: PipelineCache | None = None) -> None:
        self.conn = conn
        self.cache = cache
        # The funnel's version as this unit of work read it (read once), and whether this unit of
        # work changed the funnel: then it reads its own, uncommitted stages, and caches nothing.
        self._version: Any = _NOT_READ
        self._changed = False

    async def default(self) -> Pipeline | None:
        cached = await self._cached()
        if cached is not None and cached.default is not None:
            return cached.default
        return await self._load(_DEFAULT, default=True)

    async def get(self, pipeline_id: int) -> Pipeline | None:
        cached = await self._cached()
        if cached is not None and pipeline_id in cached.by_id:
            return cached.by_id[pipeline_id]
        return await self._load(_BY_ID, {"pipeline_id": pipeline_id})

    async def _cached(self) -> PipelineCache | None:
        """The process's cache when it holds the funnel as this unit of work sees it, else None."""
        cache = self.cache
        if cache is None or self._changed or cache.version is None:
            return None
        if self._version is _NOT_READ:
            self._version = await self.conn.scalar(_VERSION)
        return cache if self._version == cache.version else None

    async def _load(
        self, stmt: Select[Any], params: dict[str, Any] | None = None, *, default: bool = False
    ) -> Pipeline | None:
        """The pipeline and its stages in one query (it is read on every move and every card)."""
        rows = (await self.conn.execute(stmt, params)).all()
        if not rows:
            return None
        head = rows[0]
        numbers = (await self.conn.execute(_NUMBERS, {"pipeline_id": head.pipeline_key})).scalars()
        pipeline = Pipeline(
            id=head.pipeline_key,
            name=head.pipeline_name,
            is_default=head.pipeline_is_default,
            stages=tuple(stage_from_row(r) for r in rows if r.id is not None),
            numbers=tuple(numbers),
        )
        if self.cache is not None and not self._changed:
            self._version = head.funnel_version
            self.cache.keep(head.funnel_version, pipeline, default=default)
        return pipeline

    def _changing(self) -> None:
        self._changed = True

    async def all(self) -> list[Pipeline]:
        """Every pipeline: the default first, then in the funnel file's order."""
        ids = (await self.conn.execute(_ORDERED_IDS)).scalars().all()
        found = [await self.get(pid) for pid in ids]
        return [p for p in found if p is not None]

    async def for_did(self, did: str) -> int | None:
        """The pipeline whose listed numbers include ``did`` (E.164), if any."""
        return await self.conn.scalar(_FOR_DID, {"did": did})

    async def create(
        self, name: str, specs: list[StageSpec], *, is_default: bool, position: int = 0
    ) -> Pipeline:
        self._changing()
        result = await self.conn.execute(
            insert(pipelines).values(name=name, is_default=is_default, position=position)
        )
        pipeline_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        await self.conn.execute(
            insert(stages),
            [{"pipeline_id": pipeline_id, **_stage_values(spec, i)} for i, spec in enumerate(specs, start=1)],
        )
        pipeline = await self.get(pipeline_id)
        assert pipeline is not None
        return pipeline

    async def update(self, pipeline_id: int, *, name: str, is_default: bool, position: int) -> None:
        self._changing()
        await self.conn.execute(
            update(pipelines)
            .where(pipelines.c.id == pipeline_id)
            .values(name=name, is_default=is_default, position=position)
        )

    async def park_names(self) -> None:
        """Rename every pipeline temporarily, so that a file can swap names without unique clashes."""
        self._changing()
        await self.conn.execute(
            update(pipelines).values(
                name=func.substr("~" + pipelines.c.name, 1, 41)
                + "~"
                + pipelines.c.id.cast(pipelines.c.name.type)
            )
        )

    async def set_numbers(self, pipeline_id: int, numbers: list[str]) -> None:
        """The DIDs whose calls open deals in the pipeline, replacing those it had."""
        self._changing()
        await self.conn.execute(delete(pipeline_numbers).where(pipeline_numbers.c.pipeline_id == pipeline_id))
        if numbers:
            await self.conn.execute(
                insert(pipeline_numbers), [{"did": n, "pipeline_id": pipeline_id} for n in numbers]
            )

    async def delete(self, pipeline_id: int) -> None:
        """Remove a pipeline that holds no deals, with its stages and numbers."""
        self._changing()
        await self.conn.execute(delete(pipeline_numbers).where(pipeline_numbers.c.pipeline_id == pipeline_id))
        await self.conn.execute(delete(stages).where(stages.c.pipeline_id == pipeline_id))
        await self.conn.execute(delete(pipelines).where(pipelines.c.id == pipeline_id))

    async def add_stage(self, pipeline_id: int, spec: StageSpec, position: int) -> int:
        self._changing()
        result = await self.conn.execute(
            insert(stages).values(pipeline_id=pipeline_id, **_stage_values(spec, position))
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def update_stage(self, stage_id: int, spec: StageSpec, position: int) -> None:
        self._changing()
        await self.conn.execute(
            update(stages).where(stages.c.id == stage_id).values(**_stage_values(spec, position))
        )

    async def park_stage_names(self, pipeline_id: int) -> None:
        """Rename every stage temporarily, so a reordering can reuse names without unique clashes."""
        self._changing()
        # "~" + 40 characters of the name + "~" + the id: unique, and well within the column's 64.
        await self.conn.execute(
            update(stages)
            .where(stages.c.pipeline_id == pipeline_id)
            .values(name=func.substr("~" + stages.c.name, 1, 41) + "~" + stages.c.id.cast(stages.c.name.type))
        )

    async def delete_stage(self, stage_id: int) -> None:
        self._changing()
        await self.conn.execute(delete(stages).where(stages.c.id == stage_id))


class LostReasonRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def active(self) -> list[str]:
        rows = await self.conn.execute(
            select(lost_reasons.c.text)
            .where(lost_reasons.c.active.is_(True))
            .order_by(lost_reasons.c.position)
        )
        return list(rows.scalars())

    async def ensure(self, reasons: list[str]) -> None:
        existing = set((await self.conn.execute(select(lost_reasons.c.text))).scalars())
        start = int(await self.conn.scalar(select(func.coalesce(func.max(lost_reasons.c.position), 0))) or 0)
        new = [r for r in reasons if r not in existing]
        if new:
            await self.conn.execute(
                insert(lost_reasons), [{"text": r, "position": start + i} for i, r in enumerate(new, 1)]
            )

    async def replace(self, reasons: list[str]) -> None:
        await self.conn.execute(update(lost_reasons).values(active=False))
        await self.ensure(reasons)
        for position, reason in enumerate(reasons, 1):
            await self.conn.execute(
                update(lost_reasons)
                .where(lost_reasons.c.text == reason)
                .values(active=True, position=position)
            )
