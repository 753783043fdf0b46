"""Users and their PBX extensions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.conversations import COUNT_SINCE
from crm_core.adapters.tables import tasks, user_extensions, users
from crm_core.domain.users import Role, User

owned = user_extensions.alias("owned")


def _and_extensions(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` (a select over ``users``) with a row per extension of the user it finds."""
    return stmt.add_columns(owned.c.extension.label("owned_extension")).outerjoin(
        owned, owned.c.user_id == users.c.id
    )


# Built once: every call looks up who answered it (and a missed one whose extension rang).
_BY_EXTENSION = _and_extensions(
    select(users)
    .join(user_extensions, user_extensions.c.user_id == users.c.id)
    .where(user_extensions.c.extension == bindparam("extension"))
)
# Built once too: every update from the chat looks up its sender, every card read by id its owner.
_BY_TELEGRAM_ID = _and_extensions(select(users).where(users.c.telegram_id == bindparam("telegram_id")))
_BY_ID = _and_extensions(select(users).where(users.c.id == bindparam("user_id")))
# The sender of an update with their updates within the flood window, in one statement.
_BY_TELEGRAM_ID_PACED = _BY_TELEGRAM_ID.add_columns(COUNT_SINCE.scalar_subquery().label("recent"))


def user_from_row(row: Row[Any], extensions: Sequence[str] = ()) -> User:
    return User(
        id=row.id,
        telegram_id=row.telegram_id,
        name=row.name,
        role=Role(row.role),
        timezone=row.timezone,
        locale=row.locale,
        active=row.active,
        blocked_bot=row.blocked_bot,
        extensions=tuple(sorted(extensions)),
    )


class UserRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _with_extensions(self, rows: Sequence[Row[Any]]) -> list[User]:
        if not rows:
            return []
        ext_rows = await self.conn.execute(
            select(user_extensions.c.user_id, user_extensions.c.extension).where(
                user_extensions.c.user_id.in_([r.id for r in rows])
            )
        )
        by_user: dict[int, list[str]] = {}
        for user_id, ext in ext_rows:
            by_user.setdefault(user_id, []).append(ext)
        return [user_from_row(r, by_user.get(r.id, ())) for r in rows]

    async def _one(self, stmt: Select[Any], params: dict[str, Any] | None = None) -> User | None:
        """The user an ``_and_extensions`` statement finds, with their extensions, in one query."""
        rows = (await self.conn.execute(stmt, params)).all()
        if not rows:
            return None
        return user_from_row(rows[0], [r.owned_extension for r in rows if r.owned_extension is not None])

    async def get(self, user_id: int) -> User | None:
        if not 0 < user_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            return None
        return await self._one(_BY_ID, {"user_id": user_id})

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        if not -(2**63) <= telegram_id < 2**63:  # a typo no BIGINT holds: nobody, not a driver error
            return None
        return await self._one(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})

    async def by_telegram_id_paced(
        self, telegram_id: int, *, since: datetime, prefix: str
    ) -> tuple[User | None, int]:
        """``by_telegram_id`` and how many keys starting with ``prefix`` they recorded since ``since``
        in the handled-updates ledger (``Processed.count_since``): one statement for a known sender."""
        if not -(2**63) <= telegram_id < 2**63:
            return None, 0
        params = {"telegram_id": telegram_id, "subject_id": telegram_id, "since": since}
        params["pattern"] = prefix + "%"
        rows = (await self.conn.execute(_BY_TELEGRAM_ID_PACED, params)).all()
        if not rows:  # a stranger: counted on their own
            return None, int(await self.conn.scalar(COUNT_SINCE, params) or 0)
        extensions = [r.owned_extension for r in rows if r.owned_extension is not None]
        return user_from_row(rows[0], extensions), int(rows[0].recent or 0)

    async def by_extension(self, extension: str) -> User | None:
        return await self._one(_BY_EXTENSION, {"extension": extension})

    async def list(self, *, role: Role | None = None, active: bool | None = None) -> list[User]:
        stmt = select(users).order_by(users.c.role, users.c.name, users.c.id)
        if role is not None:
            stmt = stmt.where(users.c.role == role.value)
        if active is not None:
            stmt = stmt.where(users.c.active.is_(active))
        return await self._with_extensions((await self.conn.execute(stmt)).all())

    async def add(self, user: User, *, at: datetime) -> User:
        result = await self.conn.execute(
            insert(users).values(
                telegram_id=user.telegram_id,
                name=user.name,
                role=user.role.value,
                timezone=user.timezone,
                locale=user.locale,
                active=user.active,
                created_at=at,
            )
        )
        user.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        await self.set_extensions(user)
        return user

    async def save(self, user: User, *, locale_chosen: bool | None = None) -> None:
        values: dict[str, Any] = {
            "name": user.name,
            "role": user.role.value,
            "timezone": user.timezone,
            "locale": user.locale,
            "active": user.active,
            "blocked_bot": user.blocked_bot,
        }
        if locale_chosen is not None:
            values["locale_chosen"] = locale_chosen
        await self.conn.execute(update(users).where(users.c.id == user.id).values(**values))

    async def locale_chosen(self, user_id: int) -> bool:
        return bool(await self.conn.scalar(select(users.c.locale_chosen).where(users.c.id == user_id)))

    async def set_extensions(self, user: User) -> None:
        await self.conn.execute(delete(user_extensions).where(user_extensions.c.user_id == user.id))
        if user.extensions:
            await self.conn.execute(
                insert(user_extensions), [{"extension": e, "user_id": user.id} for e in user.extensions]
            )

    async def release_extension(self, extension: str) -> None:
        await self.conn.execute(delete(user_extensions).where(user_extensions.c.extension == extension))

    async def extension_owner(self, extension: str) -> int | None:
        return await self.conn.scalar(
            select(user_extensions.c.user_id).where(user_extensions.c.extension == extension)
        )

    async def next_in_rotation(self) -> User | None:
        """The active seller who was given a call-back longest ago (or never): round-robin without state."""
        last_given = (
            select(tasks.c.assignee_id, func.max(tasks.c.created_at).label("last_at"))
            .where(tasks.c.kind == "call_back")
            .group_by(tasks.c.assignee_id)
            .subquery()
        )
        row = (
            await self.conn.execute(
                select(users)
                .outerjoin(last_given, last_given.c.assignee_id == users.c.id)
                .where(
                    users.c.role == Role.SELLER.value,
                    users.c.active.is_(True),
                    users.c.blocked_bot.is_(False),
                )
                .order_by(last_given.c.last_at.is_not(None), last_given.c.last_at, users.c.id)
                .limit(1)
            )
        ).first()
        return (await self._with_extensions([row]))[0] if row else None
