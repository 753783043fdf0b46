"""A host bot with its own /ping command, and Kanbot inside it (aiogram 3).

Run:  BOT_TOKEN=... KANBOT_DATABASE_URL=sqlite+aiosqlite:///./kanbot.db python host_aiogram.py
(TELEGRAM_API_URL points it at another Bot API server, e.g. the emulator.)
"""

import asyncio
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import Message

from kanbot.embed import attach_to_aiogram

host = Router(name="host")


@host.message(Command("ping"))
async def ping(message: Message) -> None:
    """The host's own command: it keeps working beside Kanbot's."""
    await message.answer("pong")


async def main() -> None:
    api = os.environ.get("TELEGRAM_API_URL")
    session = AiohttpSession(api=TelegramAPIServer.from_base(api)) if api else AiohttpSession()
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.include_router(host)  # the host's handlers first...
    await attach_to_aiogram(dispatcher, bot)  # ...then Kanbot's (its settings come from KANBOT_* variables)
    await dispatcher.start_polling(bot)


if __name__ == "__main__":
    asyncio.run(main())
