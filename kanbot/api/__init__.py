"""The REST API (``/api/v1/...``): deals over HTTP for other systems, behind personal API tokens."""

from kanbot.api.routes import rest_routes

__all__ = ["rest_routes"]
