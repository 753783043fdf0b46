"""``kanbot bridge``: replay AMI captures, parse a saved webhook payload, run the Asterisk bridge."""

from __future__ import annotations

import asyncio
import enum
import json
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from crm_core.domain.calls import CallEvent
from kanbot.logs import add_secret, setup_logging
from kanbot.settings import LogSettings, describe_validation_error, describe_validation_errors
from telephony_bridge.settings import AmiSettings, DialSettings

app = typer.Typer(
    help="The telephony bridge: check a PBX with captured AMI sessions, parse webhook payloads, "
    "run the Asterisk bridge that feeds the CRM.",
    no_args_is_help=True,
)


class Provider(enum.StrEnum):
    TWILIO = "twilio"
    ZADARMA = "zadarma"
    MANGO = "mango"
    GENERIC = "generic"


CaptureFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Capture file.")
]


@app.command()
def replay(
    file: CaptureFile,
    inbound_context: Annotated[
        list[str] | None,
        typer.Option(
            "--inbound-context", help="A context where outside calls enter (repeat it; replaces the default)."
        ),
    ] = None,
    trunk_pattern: Annotated[str | None, typer.Option(help="Regex: channel names that are trunks.")] = None,
    extension_pattern: Annotated[
        str | None, typer.Option(help="Regex with an 'ext' group: the extension in a phone's channel name.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Country for national-format numbers, e.g. RU.")] = None,
    ingest: Annotated[
        bool,
        typer.Option("--ingest", help="Also feed the calls to the CRM database, as the live bridge would."),
    ] = False,
) -> None:
    """Replay a captured AMI session (wire text or JSON); print one JSON line per call that ended in it."""
    settings = _settings(
        ami_inbound_contexts=",".join(inbound_context) if inbound_context else None,
        ami_trunk_pattern=trunk_pattern,
        ami_extension_pattern=extension_pattern,
        default_region=region,
    )
    calls = replay_calls(file, settings)
    print_calls(calls)
    if ingest:
        _ingest(calls)


def _ingest(calls: list[CallEvent]) -> None:
    """Feed the calls to the CRM (idempotent: replaying the same capture again changes nothing)."""
    from crm_core.services import Crm
    from kanbot.cli.common import with_crm

    async def go(crm: Crm) -> None:
        for call in calls:
            outcome = await crm.calls.ingest_call(call)
            state = "duplicate" if outcome.duplicate else "new deal" if outcome.created else "recorded"
            typer.echo(f"ingested {call.call_id}: deal {outcome.deal_id or '-'} ({state})", err=True)

    with_crm(go)


def replay_calls(file: Path, settings: AmiSettings) -> list[CallEvent]:
    """The calls that ended in the capture ``file``, as ``replay`` prints them."""
    from telephony_bridge.ami.replay import replay_file

    try:
        return replay_file(file, settings.tracker_config())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def parse(
    file: CaptureFile,
    provider: Annotated[Provider, typer.Option(case_sensitive=False, help="Who posted the payload.")],
    region: Annotated[str | None, typer.Option(help="Country for national-format numbers, e.g. RU.")] = None,
    timezone: Annotated[str | None, typer.Option(help="The PBX's wall-clock zone (Zadarma).")] = None,
) -> None:
    """Parse one saved webhook payload; print the CallEvent JSON line(s) it gives."""
    from telephony_bridge.providers import PayloadError, parse_file  # written alongside; imported when used

    settings = _settings(default_region=region)
    extra = {"timezone": timezone} if timezone else {}
    try:
        calls = parse_file(provider.value, file, region=settings.default_region, **extra)
    except PayloadError as exc:
        typer.echo(f"Not a valid {provider.value} payload: {exc}", err=True)
        raise typer.Exit(code=2) from None
    print_calls(calls)


@app.command()
def ami(
    host: Annotated[str | None, typer.Option(help="Asterisk host [KANBOT_AMI_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="AMI port [KANBOT_AMI_PORT, 5038].")] = None,
    username: Annotated[str | None, typer.Option(help="manager.conf user [KANBOT_AMI_USERNAME].")] = None,
    secret: Annotated[str | None, typer.Option(help="Its secret; prefer KANBOT_AMI_SECRET.")] = None,
    crm_url: Annotated[str | None, typer.Option(help="The CRM's base URL [KANBOT_CRM_URL].")] = None,
    crm_secret: Annotated[str | None, typer.Option(help="Shared secret; prefer KANBOT_CALLS_SECRET.")] = None,
    spool: Annotated[Path | None, typer.Option(help="Spool file [KANBOT_AMI_SPOOL_PATH].")] = None,
) -> None:
    """Run the Asterisk bridge (AMI → spool → CRM) until SIGINT or SIGTERM; with KANBOT_DIAL_VIA=bridge
    it also places the calls asked for from the cards (AMI Originate)."""
    from telephony_bridge.ami.bridge import run_bridge

    settings = _settings(
        ami_host=host,
        ami_port=port,
        ami_username=username,
        ami_secret=secret,
        crm_url=crm_url,
        calls_secret=crm_secret,
        ami_spool_path=spool,
    )
    required = {
        "KANBOT_AMI_USERNAME (--username)": settings.ami_username,
        "KANBOT_AMI_SECRET (--secret)": settings.ami_secret,
        "KANBOT_CRM_URL (--crm-url)": settings.crm_url,
        "KANBOT_CALLS_SECRET (--crm-secret)": settings.calls_secret,
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise typer.BadParameter(f"set {', '.join(missing)}")
    try:
        logs = LogSettings()
        dial = DialSettings()
    except ValidationError as error:
        raise typer.BadParameter(describe_validation_error(error)) from None
    setup_logging(logs.log_level, logs.log_format)
    # KANBOT_DIAL_VIA=bridge: this bridge also places the calls asked for from the cards.
    originate = dial.originate() if dial.dial_via == "bridge" else None
    for hidden in (settings.ami_secret, settings.calls_secret):
        add_secret(hidden.get_secret_value() if hidden else None)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_bridge(settings, stop=stop, originate=originate)

    asyncio.run(serve())


def print_calls(calls: Iterable[CallEvent]) -> None:
    for call in calls:
        typer.echo(json.dumps(call.to_json(), ensure_ascii=False))


def _settings(**overrides: object) -> AmiSettings:
    """The settings from the environment and ``.env``, with the command line's options on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return AmiSettings(**given)  # type: ignore[arg-type]  # validated by pydantic
    except ValidationError as exc:
        raise typer.BadParameter(" ".join(describe_validation_errors(exc))) from None
