"""Wiring of calls placed from the CRM: the dialer ``KANBOT_DIAL_VIA`` names, and the in-process placer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from crm_core.domain.dialing import CallRequest, Refusal
from crm_core.services import Crm
from kanbot.settings import SettingError
from telephony_bridge.ami.listener import AmiListener
from telephony_bridge.dialing import Dialer, Outcome
from telephony_bridge.dialing.ami import AmiDialer
from telephony_bridge.dialing.api import request_routes
from telephony_bridge.dialing.cloud import MangoDialer, TwilioDialer, ZadarmaDialer
from telephony_bridge.dialing.placer import Placer
from telephony_bridge.settings import DialSettings

log = logging.getLogger(__name__)


def check(settings: DialSettings, *, ami_configured: bool) -> None:
    """Refuse, naming the setting, a ``KANBOT_DIAL_VIA`` whose credentials are missing."""
    missing = settings.missing()
    if settings.dial_via == "asterisk" and not ami_configured:
        missing = ["KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET"]
    if missing:
        raise SettingError("KANBOT_DIAL_VIA", f"{settings.dial_via} needs {', '.join(missing)}")


def build_dialer(settings: DialSettings, listener: AmiListener | None) -> Dialer | None:
    """The dialer of this process, or None when calls are not placed from it (unset, or the bridge)."""
    via = settings.dial_via
    if via == "asterisk":
        return AmiDialer(settings.originate(), listener.send_action) if listener else None
    if via == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id
        status_url = f"{settings.public_url}/hooks/twilio" if settings.public_url else None
        return TwilioDialer(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            caller_id=settings.twilio_caller_id,
            status_url=status_url,
            record=settings.twilio_record,
            api_url=settings.twilio_api_url,
        )
    if via == "zadarma":
        assert settings.zadarma_api_key and settings.zadarma_secret
        return ZadarmaDialer(
            settings.zadarma_api_key,
            settings.zadarma_secret.get_secret_value(),
            api_url=settings.zadarma_api_url,
        )
    if via == "mango":
        assert settings.mango_api_key and settings.mango_api_salt
        return MangoDialer(
            settings.mango_api_key.get_secret_value(),
            settings.mango_api_salt.get_secret_value(),
            api_url=settings.mango_api_url,
        )
    return None


async def report_to(crm: Crm, request_id: int, outcome: Outcome) -> None:
    """Tell the CRM what the PBX did with a request."""
    if outcome.placed:
        await crm.dialing.placed(request_id=request_id, external_id=outcome.external_id)
    else:
        reason = outcome.refusal or Refusal.PBX_REFUSED
        await crm.dialing.refused(request_id=request_id, reason=reason, detail=outcome.detail)


def api_routes(crm: Crm, *, secret: str | None, after_report: Callable[[], None]) -> list[web.RouteDef]:
    """The signed endpoints ``kanbot bridge ami`` takes call requests from and reports them to."""

    async def report(request_id: int, outcome: Outcome) -> None:
        await report_to(crm, request_id, outcome)
        after_report()

    return request_routes(claim=crm.dialing.claim, report=report, secret=secret)


def in_process_placer(crm: Crm, dialer: Dialer, *, after_report: Callable[[], None]) -> Placer:
    """Places the CRM's requests from this process; ``after_report`` wakes the outbox (a refusal's notice)."""

    async def report(request: CallRequest, outcome: Outcome) -> None:
        await report_to(crm, request.id, outcome)
        after_report()

    return Placer(dialer, claim=crm.dialing.claim, report=report)
