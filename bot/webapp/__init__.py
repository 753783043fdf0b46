"""The kanban board as a Telegram Mini App: its page, its JSON API, and the checks of Telegram's launch data.

An edge like the chat: it talks to ``crm_core`` services as the user the launch data names, with the
same roles and scoping. ``kanbot`` adds ``webapp_routes(...)`` to its HTTP server. See docs/miniapp.md.
"""
