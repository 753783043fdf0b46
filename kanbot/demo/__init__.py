"""The offline demo: a demo team and two months of deals, the Telegram emulator, and the real bot.

``kanbot demo`` (``make run`` without a bot token) runs ``run_demo``; see docs/demo.md.
"""
