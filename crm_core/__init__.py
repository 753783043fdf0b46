"""Kanbot's CRM core: the funnel's domain, rules, storage and reports.

It knows nothing of Telegram or of PBXs: the chat (``bot``) and the telephony bridge
(``telephony_bridge``) are edges built over it, wired together by ``kanbot``.
"""
