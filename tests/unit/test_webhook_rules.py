"""Outgoing webhooks' rules: which events, which addresses, and when a failed delivery is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.webhooks import BACKOFF_MOST, next_try, valid_events, valid_url
from kanbot.webhooks import body_of
from telephony_bridge.signing import sign, verify

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_retry_delay_doubles_from_the_base_up_to_an_hour() -> None:
    base = timedelta(seconds=10)

    delays = [next_try(n, base=base, at=AT) - AT for n in (1, 2, 3, 4, 12, 100)]

    assert delays[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert delays[4:] == [BACKOFF_MOST, BACKOFF_MOST]


def test_events_are_named_once_each_and_only_known_ones() -> None:
    assert valid_events(" deal.won, deal.lost ,deal.won") == ("deal.won", "deal.lost")
    with pytest.raises(InvalidInput):
        valid_events("deal.won,ping")


@pytest.mark.parametrize(
    "url", ["erp.example.com/hooks", "ftp://erp.example.com", "http://", "https://x/" + "a" * 500]
)
def test_an_address_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        valid_url(url)


def test_a_body_signed_with_the_endpoints_secret_is_verified_by_the_inbound_verifier() -> None:
    from crm_core.domain.webhooks import Delivery, DeliveryStatus

    delivery = Delivery(
        id=7,
        endpoint_id=1,
        url="https://erp.example.com",
        event="deal.won",
        order_key="deal:3",
        subject_id=3,
        occurred_at=AT,
        data={"id": 3, "title": "Кофе"},
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_try_at=AT,
        last_error=None,
        created_at=AT,
        settled_at=None,
    )
    body = body_of(delivery)

    verify(body, sign(body, "whsec_0123456789abcdef"), "whsec_0123456789abcdef")
    assert body.decode() == (
        '{"id":7,"event":"deal.won","occurred_at":"2026-12-07T12:00:00+00:00","data":{"id":3,"title":"Кофе"}}'
    )
