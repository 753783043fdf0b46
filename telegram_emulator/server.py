"""The emulator's aiohttp application, the `Emulator` context manager, and the blocking `run`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import TracebackType

from aiohttp import web

from telegram_emulator import bot_api, control_actions, control_admin, control_users, webapp
from telegram_emulator.control_base import control_errors
from telegram_emulator.keys import PAGE_EXTENSIONS_KEY, WORLD_KEY
from telegram_emulator.state import World
from telegram_emulator.webhook import WebhookDelivery

WEB_DIR = Path(__file__).with_name("web")
MAX_UPLOAD_BYTES = 60 * 1024 * 1024  # Telegram takes documents up to 50 MB


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html")


def create_app(
    *,
    rate_limits: bool = True,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    page_extensions: Iterable[str] = (),
) -> web.Application:
    """Build the emulator as an aiohttp application (what `Emulator` and `run` serve)."""
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES, middlewares=[control_errors])
    world = World(rate_limits=rate_limits)
    app[WORLD_KEY] = world
    app[PAGE_EXTENSIONS_KEY] = list(page_extensions)
    delivery = WebhookDelivery(world, bot_api.execute)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await delivery.close()

    async def wake_polls(app: web.Application) -> None:
        world.closing = True
        for bot in world.bots.values():
            bot.notify()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(wake_polls)
    app.add_routes(bot_api.routes())
    app.add_routes(control_users.routes)
    app.add_routes(control_actions.routes)
    app.add_routes(control_admin.routes)
    app.add_routes(webapp.routes)
    app.add_routes([web.get("/", _index), web.static("/static", WEB_DIR)])
    app.add_routes(list(extra_routes))
    return app


class Emulator:
    """A local Telegram Bot API server on real HTTP: `async with Emulator() as emu: ... emu.url`.

    Options:
      rate_limits: enforce Telegram's flood limits from the start (change later: POST /emulator/limits).
      extra_routes: aiohttp route definitions another package adds (e.g. a Mini App backend); their
        handlers reach the emulator's state as `request.app[WORLD_KEY]`.
      page_extensions: URLs of JavaScript modules the web page imports; each default-exports
        `setup(page)` and can add panels and controls (see docs/emulator.md).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate_limits: bool = True,
        extra_routes: Iterable[web.AbstractRouteDef] = (),
        page_extensions: Iterable[str] = (),
    ) -> None:
        self.host, self.port = host, port
        self.app = create_app(
            rate_limits=rate_limits, extra_routes=extra_routes, page_extensions=page_extensions
        )
        self._runner: web.AppRunner | None = None

    @property
    def world(self) -> World:
        """The emulator's state, for Python callers that want to look inside."""
        return self.app[WORLD_KEY]

    @property
    def url(self) -> str:
        """The base URL, like http://127.0.0.1:54321 (the real port when 0 was asked for)."""
        if self._runner is None:
            raise RuntimeError("the emulator is not started")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104 (a comparison)
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(self.app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def run(host: str = "127.0.0.1", port: int = 8081) -> None:
    """Serve the emulator until interrupted (`kanbot emulator` and `python -m telegram_emulator` call it)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (a comparison)
    url = f"http://{shown}:{port}"
    banner = (
        f"Kanbot Telegram emulator on {url}\n"
        f"  chat page:   {url}/\n"
        f"  Bot API:     {url}/bot<token>/<method>  (any token, e.g. 123456:TEST)\n"
        f"  aiogram:     TelegramAPIServer.from_base({url!r})\n"
        f"  PTB:         .base_url({url + '/bot'!r}).base_file_url({url + '/file/bot'!r})\n"
        "Press Ctrl+C to stop."
    )
    web.run_app(create_app(), host=host, port=port, print=lambda _: print(banner), shutdown_timeout=2.0)
