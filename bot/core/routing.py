"""Routers: each feature module declares its commands, buttons and dialog steps on one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.core.codec import Action
from bot.core.context import ChatContext
from bot.core.events import SharedContact, Text
from bot.core.views import Reply
from crm_core.domain.conversations import Dialog

CommandHandler = Callable[[ChatContext, str], Awaitable[Reply]]
# A button's handler takes the action it is registered for (``on_next(ctx, p: Next)``): the router
# calls it only with that action, which is more than a callable's type can say.
ButtonHandler = Callable[[ChatContext, Any], Awaitable[Reply]]
FlowHandler = Callable[[ChatContext, Dialog, Text | SharedContact], Awaitable[Reply]]
B = TypeVar("B", bound=ButtonHandler)


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[type[Action], ButtonHandler] = {}
        self.flows: dict[str, FlowHandler] = {}
        self.boss_only: set[str] = set()
        self.within_update: set[type[Action]] = set()

    def command(self, *names: str, boss: bool = False) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name] = handler
                if boss:
                    self.boss_only.add(name)
            return handler

        return register

    def button(self, *actions: type[Action], within_update: bool = False) -> Callable[[B], B]:
        """``within_update``: the handler's work is a few quick statements (a move, a card), done in
        the update's own unit of work: its claim, the work and its done mark in one transaction.
        Not for long reads (reports, searches): on SQLite that transaction holds the write lock."""

        def register(handler: B) -> B:
            for action in actions:
                self.buttons[action] = handler
                if within_update:
                    self.within_update.add(action)
            return handler

        return register

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        def register(handler: FlowHandler) -> FlowHandler:
            self.flows[name] = handler
            return handler

        return register
