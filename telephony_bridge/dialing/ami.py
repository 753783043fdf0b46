"""Asterisk: the AMI ``Originate`` of the seller's phone into the outbound context, then the customer.

``Originate`` calls ``Channel`` (the seller's endpoint, e.g. ``PJSIP/101``) and, once it is picked up,
runs the dialplan at ``Context``/``Exten``/``Priority`` — the outbound context dials the customer as if
the seller had dialled the number. ``Async: true`` makes Asterisk answer at once ("Originate
successfully queued") instead of after the seller's phone stopped ringing. The call that results is
seen by the tracker like any call the seller placed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_core.domain.dialing import CallRequest, Refusal
from crm_core.domain.phones import national_digits
from telephony_bridge.dialing import Outcome

_log = logging.getLogger("telephony_bridge.dialing.ami")
SendAction = Callable[[Mapping[str, str]], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class OriginateConfig:
    context: str  # the dialplan context outbound calls go through (FreePBX: from-internal)
    channel: str = "PJSIP/{extension}"  # the seller's endpoint
    number: str = "{e164}"  # how the context wants the number: {e164}, {digits} or {national}
    caller_id: str = "{name} <{e164}>"  # what the seller's phone shows while it rings
    ring_timeout_s: int = 30

    def action(self, request: CallRequest) -> dict[str, str]:
        """The ``Originate`` action for ``request``."""
        names = _number_forms(request.number) | {"extension": request.extension}
        name = (request.customer_name or names["e164"]).replace('"', "").replace("<", "").replace(">", "")
        return {
            "Action": "Originate",
            "ActionID": f"kanbot-dial-{request.id}",
            "Channel": self.channel.format(**names),
            "Context": self.context,
            "Exten": self.number.format(**names),
            "Priority": "1",
            "CallerID": self.caller_id.format(name=name[:40], **names),
            "Timeout": str(self.ring_timeout_s * 1000),
            "Async": "true",
            "Variable": f"KANBOT_REQUEST={request.id}",
        }


def _number_forms(e164: str) -> dict[str, str]:
    return {"e164": e164, "digits": e164.lstrip("+"), "national": national_digits(e164)}


class AmiDialer:
    """Places requests through an AMI session (``AmiListener.send_action``)."""

    name = "asterisk"

    def __init__(
        self, config: OriginateConfig, send_action: SendAction, *, answer_within_s: float = 10.0
    ) -> None:
        self._config = config
        self._send = send_action
        self._answer_within_s = answer_within_s

    async def place(self, request: CallRequest) -> Outcome:
        action = self._config.action(request)
        try:
            async with asyncio.timeout(self._answer_within_s):
                answer = await self._send(action)
        except (ConnectionError, OSError, TimeoutError) as error:
            _log.warning(
                "Originate for request %s: Asterisk unreachable (%s)", request.id, error or "timeout"
            )
            return Outcome.refused(Refusal.PBX_UNREACHABLE, str(error) or "no answer")
        if str(answer.get("Response", "")).lower() == "success":
            return Outcome.ok(action["ActionID"])
        message = str(answer.get("Message", "")) or "refused"
        _log.warning("Originate for request %s refused by Asterisk: %s", request.id, message)
        return Outcome.refused(Refusal.PBX_REFUSED, message)
