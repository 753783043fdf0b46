"""A local stand-in for the Telegram Bot API, with a control API and a chat page.

Real bots (aiogram, python-telegram-bot) run against it unchanged over real HTTP; tests act as users
through `/emulator/...`; people try Kanbot in a browser at `/`. It imports nothing from the rest of
Kanbot: it is a fake Telegram, not part of the CRM. See docs/emulator.md.
"""

from telegram_emulator.keys import WORLD_KEY
from telegram_emulator.server import Emulator, create_app, run
from telegram_emulator.state import World

__all__ = ["WORLD_KEY", "Emulator", "World", "create_app", "run"]
