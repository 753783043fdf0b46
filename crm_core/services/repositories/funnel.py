"""Funnels, their stages, and the reasons a deal can be lost for."""

from __future__ import annotations

from typing import Protocol

from crm_core.domain.funnel import Pipeline, StageSpec


class Pipelines(Protocol):
    """Funnels and their stages."""

    async def default(self) -> Pipeline | None: ...

    async def get(self, pipeline_id: int) -> Pipeline | None: ...

    async def all(self) -> list[Pipeline]: ...

    async def create(self, name: str, specs: list[StageSpec], *, is_default: bool) -> Pipeline: ...

    async def add_stage(self, pipeline_id: int, spec: StageSpec, position: int) -> int: ...

    async def update_stage(self, stage_id: int, spec: StageSpec, position: int) -> None: ...

    async def park_stage_names(self, pipeline_id: int) -> None: ...

    async def delete_stage(self, stage_id: int) -> None: ...


class LostReasons(Protocol):
    """The reasons a deal can be lost for."""

    async def active(self) -> list[str]: ...

    async def ensure(self, reasons: list[str]) -> None: ...

    async def replace(self, reasons: list[str]) -> None: ...
