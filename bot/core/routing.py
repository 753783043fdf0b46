"""Routers: each feature module declares its commands, buttons and dialog steps on one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.core.codec import Payload
from bot.core.context import ChatContext
from bot.core.events import SharedContact, Text
from bot.core.views import Reply
from crm_core.domain.conversations import Dialog

CommandHandler = Callable[[ChatContext, str], Awaitable[Reply]]
ButtonHandler = Callable[[ChatContext, Payload], Awaitable[Reply]]
FlowHandler = Callable[[ChatContext, Dialog, Text | SharedContact], Awaitable[Reply]]
F = TypeVar("F")


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.flows: dict[str, FlowHandler] = {}
        self.boss_only: set[str] = set()

    def command(self, *names: str, boss: bool = False) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name] = handler
                if boss:
                    self.boss_only.add(name)
            return handler

        return register

    def button(self, *acts: str) -> Callable[[ButtonHandler], ButtonHandler]:
        def register(handler: ButtonHandler) -> ButtonHandler:
            for act in acts:
                self.buttons[act] = handler
            return handler

        return register

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        def register(handler: FlowHandler) -> FlowHandler:
            self.flows[name] = handler
            return handler

        return register
