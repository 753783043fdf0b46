"""What every service shares: the database, the clock, the configuration, and the role checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_core.config import CrmConfig
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound
from crm_core.domain.funnel import Pipeline
from crm_core.domain.users import User
from crm_core.ports import Clock
from crm_core.services.unit_of_work import Storage, UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceBase:
    db: Storage
    clock: Clock
    config: CrmConfig

    def now(self) -> datetime:
        return self.clock.now()


def require_active(actor: User) -> None:
    if not actor.active:
        raise NotAllowed("use Kanbot: the account is deactivated")


def require_boss(actor: User, action: str) -> None:
    require_active(actor)
    if not actor.is_boss:
        raise NotAllowed(action)


async def default_pipeline(uow: UnitOfWork) -> Pipeline:
    pipeline = await uow.pipelines.default()
    if pipeline is None:
        raise NotFound("pipeline", "default (run `kanbot init`)")
    return pipeline


async def pipeline_of(uow: UnitOfWork, pipeline_id: int) -> Pipeline:
    pipeline = await uow.pipelines.get(pipeline_id)
    if pipeline is None:
        raise NotFound("pipeline", pipeline_id)
    return pipeline


async def find_pipeline(uow: UnitOfWork, ref: str | int | None) -> Pipeline:
    """A pipeline by id or by name (case-insensitive); the default one when ``ref`` is None."""
    if ref is None:
        return await default_pipeline(uow)
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise InvalidInput("pipeline", ref)
    text = str(ref).strip()
    if not text or len(text) > 64:
        raise InvalidInput("pipeline", ref, detail="a pipeline's id or name")
    if text.isdigit() and int(text) <= 2**31 - 1:  # a longer number is no stored id (nor an integer)
        pipeline = await uow.pipelines.get(int(text))
        if pipeline is not None:
            return pipeline
    folded = text.casefold()
    for pipeline in await uow.pipelines.all():
        if pipeline.name.casefold() == folded:
            return pipeline
    raise NotFound("pipeline", ref)
