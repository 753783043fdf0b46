"""Which function phrases which kind of notification: the registry the Notifier reads.

A renderer takes its kind's typed payload; the registry is built from an explicit list where the chat
is put together (``bot.core.notify.note_renderers``), never filled by importing a feature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.core.context import ChatContext
from bot.core.views import SendPhoto, View
from crm_core.domain.notifications import NotePayload

Outgoing = View | SendPhoto
P = TypeVar("P", bound=NotePayload)


@dataclass(frozen=True, slots=True)
class Rendering(Generic[P]):
    """``render`` phrases the notes whose payload is a ``payload_type``."""

    payload_type: type[P]
    render: Callable[[ChatContext, P], Awaitable[list[Outgoing]]]

    async def __call__(self, ctx: ChatContext, payload: NotePayload) -> list[Outgoing]:
        if not isinstance(payload, self.payload_type):
            raise TypeError(f"{self.render.__name__} phrases {self.payload_type.__name__}, not {payload!r}")
        return await self.render(ctx, payload)


class Renderers:
    """The renderers by notification kind; each kind is phrased by one renderer."""

    def __init__(self, renderings: Iterable[Rendering[Any]]) -> None:
        self._by_kind: dict[str, Rendering[Any]] = {}
        for rendering in renderings:
            kind = rendering.payload_type.KIND
            if kind in self._by_kind:
                raise ValueError(f"two renderers for notification kind {kind!r}")
            self._by_kind[kind] = rendering

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)

    async def render(self, ctx: ChatContext, payload: NotePayload) -> list[Outgoing]:
        rendering = self._by_kind.get(payload.KIND)
        if rendering is None:
            raise LookupError(f"no renderer for notification kind {payload.KIND!r}")
        return await rendering(ctx, payload)
