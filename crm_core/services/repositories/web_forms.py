"""Web forms, as the services store and find them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crm_core.domain.web_forms import WebForm


class WebForms(Protocol):
    async def add(
        self, *, name: str, key: str, pipeline_id: int | None, owner_id: int | None, at: datetime
    ) -> WebForm: ...

    async def by_key(self, key: str) -> WebForm | None: ...

    async def list(self) -> list[WebForm]:
        """Every form, oldest first."""
        ...

    async def remove(self, form_id: int) -> bool:
        """Remove a form; False when there was none."""
        ...
