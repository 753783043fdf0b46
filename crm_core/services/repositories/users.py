"""People: sellers and bosses, and their phone extensions."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crm_core.domain.users import Role, User


class Users(Protocol):
    """People: sellers and bosses, their extensions."""

    async def get(self, user_id: int) -> User | None: ...

    async def by_telegram_id(self, telegram_id: int) -> User | None: ...

    async def by_telegram_id_paced(
        self, telegram_id: int, *, since: datetime, prefix: str
    ) -> tuple[User | None, int]:
        """The user and their keys in the handled-updates ledger since ``since`` (``prefix``)."""
        ...

    async def by_extension(self, extension: str) -> User | None: ...

    async def list(self, *, role: Role | None = None, active: bool | None = None) -> list[User]: ...

    async def add(self, user: User, *, at: datetime) -> User: ...

    async def save(self, user: User, *, locale_chosen: bool | None = None) -> None: ...

    async def locale_chosen(self, user_id: int) -> bool: ...

    async def set_extensions(self, user: User) -> None: ...

    async def release_extension(self, extension: str) -> None: ...

    async def extension_owner(self, extension: str) -> int | None: ...

    async def next_in_rotation(self) -> User | None: ...
