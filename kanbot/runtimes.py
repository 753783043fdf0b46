"""The chat runtime a process runs on, chosen by name (KANBOT_RUNTIME).

Each runtime lives in its own module (``bot.aiogram_runtime``, ``bot.ptb_runtime``), imported here only
when it is built: aiogram alone costs ~120 MiB resident (pydantic models for every Bot API type, built
at import), which a process running python-telegram-bot should not pay, and the reverse.
"""

from __future__ import annotations

from bot.runtime import Identity, Runtime

__all__ = ["Identity", "Runtime", "make_runtime"]


def make_runtime(name: str, token: str, api_url: str | None, *, max_updates: int | None = None) -> Runtime:
    """The runtime called ``name`` ("aiogram", else python-telegram-bot) for a bot of Kanbot's own,
    handling at most ``max_updates`` updates at once."""
    if name == "aiogram":
        from bot.aiogram_runtime import AiogramRuntime

        return AiogramRuntime.own(token, api_url, max_updates=max_updates)
    from bot.ptb_runtime import PtbRuntime

    return PtbRuntime.own(token, api_url, max_updates=max_updates)
