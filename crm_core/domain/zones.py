"""Time zones as people name them: an IANA name in any case, or a city in English, Russian or Arabic.

Cities come from the IANA names themselves ("New York" is America/New_York) and from the CLDR's
exemplar city names that Babel ships ("Москва", "دبي"), so a city is found when it has a time zone
of its own; a city that shares one (Saint Petersburg is on Moscow's) is typed as that zone's city or
its IANA name, which the question says.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime
from zoneinfo import ZoneInfo

from crm_core.domain.errors import InvalidInput, Why

# The zones offered as buttons, per interface language: where most people of that language work.
COMMON_ZONES: dict[str, tuple[str, ...]] = {
    "en": (
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "Asia/Kolkata",
        "Asia/Singapore",
        "Australia/Sydney",
    ),
    "ru": (
        "Europe/Kaliningrad",
        "Europe/Moscow",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Vladivostok",
        "Europe/Minsk",
        "Asia/Almaty",
        "Asia/Tashkent",
    ),
    "ar": (
        "Asia/Riyadh",
        "Asia/Dubai",
        "Asia/Qatar",
        "Asia/Kuwait",
        "Asia/Baghdad",
        "Asia/Amman",
        "Asia/Beirut",
        "Africa/Cairo",
        "Africa/Casablanca",
    ),
}
_REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
_NOT_A_LETTER = re.compile(r"[\s_\-'’.,()]+")


def _key(text: str) -> str:
    return _NOT_A_LETTER.sub("", text.casefold().replace("ё", "е"))


@functools.cache
def _iana() -> dict[str, str]:
    names = zoneinfo.available_timezones() | {"UTC"}
    return {name.casefold(): name for name in names}


def city_name(zone: str, locale: str) -> str:
    """The zone's city in the language (Babel's CLDR names), else from its IANA name."""
    from babel.dates import get_timezone_location

    try:
        return str(get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True))
    except (LookupError, ValueError):
        return zone.rsplit("/", 1)[-1].replace("_", " ")


@functools.cache
def _cities() -> dict[str, str]:
    """Every way of naming a city with a zone of its own → that zone (the first found wins)."""
    found: dict[str, str] = {}
    for name in sorted(_iana().values()):
        if name.split("/", 1)[0] not in _REGIONS or "/" not in name:
            continue
        found.setdefault(_key(name.rsplit("/", 1)[-1]), name)
    for name in sorted(set(found.values())):
        for locale in ("en", "ru", "ar"):
            found.setdefault(_key(city_name(name, locale)), name)
    return found


def resolve_timezone(text: str) -> str:
    """The IANA zone a person means by ``text``: an IANA name (any case) or a city that has a zone."""
    raw = " ".join(text.split())
    if not raw:
        raise InvalidInput("timezone", text, Why.NO_TIME_ZONE)
    exact = _iana().get(raw.replace(" ", "_").casefold())
    if exact is not None:
        return exact
    city = _cities().get(_key(raw)) if len(raw) <= 64 else None
    if city is None:
        raise InvalidInput("timezone", text, Why.CITY)
    return city


def common_zones(locale: str) -> tuple[str, ...]:
    """The zones to offer as buttons to someone who speaks ``locale``."""
    return COMMON_ZONES.get(locale, COMMON_ZONES["en"])


def utc_offset(zone: str, at: datetime) -> str:
    """``+3``, ``+5:30`` or ``-8``: the zone's offset from UTC at that moment."""
    delta = at.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
