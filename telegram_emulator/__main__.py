"""`python -m telegram_emulator [--host H] [--port P]`: serve the Telegram emulator."""

from __future__ import annotations

import argparse

from telegram_emulator.server import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m telegram_emulator", description="Local Telegram Bot API emulator"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081)")
    args = parser.parse_args(argv)
    run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
