"""Web forms, by id and by key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import web_forms
from crm_core.domain.web_forms import WebForm

_f = web_forms.c


def _form(row: Any) -> WebForm:
    return WebForm(
        id=row.id,
        name=row.name,
        key=row.key,
        pipeline_id=row.pipeline_id,
        owner_id=row.owner_id,
        created_at=row.created_at,
    )


class WebFormRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self, *, name: str, key: str, pipeline_id: int | None, owner_id: int | None, at: datetime
    ) -> WebForm:
        values = {
            "name": name,
            "key": key,
            "pipeline_id": pipeline_id,
            "owner_id": owner_id,
            "created_at": at,
        }
        new_id = (await self.conn.execute(insert(web_forms).values(**values).returning(_f.id))).scalar_one()
        return WebForm(
            id=new_id, name=name, key=key, pipeline_id=pipeline_id, owner_id=owner_id, created_at=at
        )

    async def by_key(self, key: str) -> WebForm | None:
        row = (await self.conn.execute(select(web_forms).where(_f.key == key))).first()
        return _form(row) if row is not None else None

    async def list(self) -> list[WebForm]:
        return [_form(row) for row in await self.conn.execute(select(web_forms).order_by(_f.id))]

    async def remove(self, form_id: int) -> bool:
        done = await self.conn.execute(delete(web_forms).where(_f.id == form_id).returning(_f.id))
        return done.first() is not None
