"""Which function phrases which kind of notification: the registry the features fill and the Notifier reads.

Apart from ``bot.core.notify`` so that a feature can register a renderer without importing the
Notifier, which imports the features (importing ``bot.core.notify`` first used to fail on that cycle).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.context import ChatContext
from bot.core.views import SendPhoto, View

Outgoing = View | SendPhoto
Renderer = Callable[[ChatContext, dict[str, Any]], Awaitable[list[Outgoing]]]
RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register
