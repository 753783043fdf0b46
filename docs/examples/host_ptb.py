"""A host bot with its own /ping command, and Kanbot inside it (python-telegram-bot 21+).

Run:  BOT_TOKEN=... KANBOT_DATABASE_URL=sqlite+aiosqlite:///./kanbot.db python host_ptb.py
(TELEGRAM_API_URL points it at another Bot API server, e.g. the emulator.)
"""

import os

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from kanbot.embed import attach_to_ptb


async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The host's own command: it keeps working beside Kanbot's."""
    await update.effective_message.reply_text("pong")


async def post_init(application: Application) -> None:
    # Kanbot's handlers go in group 1, after the host's (group 0); its settings come from KANBOT_* variables.
    application.bot_data["kanbot"] = await attach_to_ptb(application, group=1)


async def post_shutdown(application: Application) -> None:
    await application.bot_data["kanbot"].close()


def build() -> Application:
    builder = Application.builder().token(os.environ["BOT_TOKEN"])
    builder = builder.post_init(post_init).post_shutdown(post_shutdown)
    if api := os.environ.get("TELEGRAM_API_URL"):
        builder = builder.base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    application = builder.build()
    application.add_handler(CommandHandler("ping", ping))  # the host's own handler, group 0
    return application


if __name__ == "__main__":
    build().run_polling()
