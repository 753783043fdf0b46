"""What the call tracker must know about one PBX: its inbound contexts and how its channels are named.

Heuristics (all configurable, see ``docs/telephony-asterisk.md``):

* ``Local/...;1`` / ``;2`` channels are half-channels that Asterisk uses for queues, ring groups and
  follow-me; the tracker follows them to the real endpoint and never treats them as a seller.
  Asterisk's own helper channels (``Announcer/``, ``CBAnn/``, ``Snoop/``...) are treated alike: they
  are nobody, neither a seller nor an outside party.
* A channel whose name matches the *trunk pattern* is a trunk, whatever else it looks like.
* Otherwise, a channel whose name matches the *extension pattern* is a seller's phone; the pattern's
  ``ext`` group (or its first group) is the extension: ``PJSIP/202-00000003`` is extension ``202``.
* Anything else (``SIP/provider-0000002a``, ``DAHDI/1-1``...) is an external leg, like a trunk.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

DEFAULT_INBOUND_CONTEXTS = ("from-trunk", "from-pstn", "from-did-direct", "ext-did", "from-external")
DEFAULT_EXTENSION_PATTERN = r"^(?:PJSIP|SIP|IAX2)/(?P<ext>\d{2,9})-[0-9A-Fa-f]+$"
DEFAULT_TRUNK_PATTERN = r"(?i)trunk|provider|pstn|gateway|^(?:DAHDI|Dongle)/"
DEFAULT_STALE_AFTER_S = 4 * 3600.0
# The extension in a Local channel's name (``Local/202@from-queue-0000001f;2``): a forward on its behalf.
_LOCAL_EXTENSION = re.compile(r"^Local/(?P<ext>\d{2,9})@")
_CACHE_LIMIT = 50_000
# Channels Asterisk makes for itself (announcements, conference helpers, spying, recording, media).
_PBX_OWN = ("Announcer/", "CBAnn/", "CBRec/", "Recorder/", "Snoop/", "Bridge/", "Multicast/", "UnicastRTP/",
            "AudioSocket/", "Message/", "Console/")  # fmt: skip


class ChannelKind(enum.IntEnum):
    ENDPOINT = 1
    LOCAL = 2
    EXTERNAL = 3


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """The site-specific part of the tracker's setup; the defaults suit a stock FreePBX."""

    inbound_contexts: frozenset[str] = frozenset(DEFAULT_INBOUND_CONTEXTS)
    extension_pattern: str = DEFAULT_EXTENSION_PATTERN
    trunk_pattern: str | None = DEFAULT_TRUNK_PATTERN
    region: str = "RU"
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    provider: str = "asterisk"
    _extension_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _trunk_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_extension_re", _compile("extension pattern", self.extension_pattern))
        trunk = _compile("trunk pattern", self.trunk_pattern) if self.trunk_pattern else None
        object.__setattr__(self, "_trunk_re", trunk)
        if self._extension_re.groups == 0:
            raise ValueError(
                "the extension pattern needs a group, e.g. (?P<ext>\\d+), to capture the extension"
            )
        if self.stale_after_s <= 0:
            raise ValueError("stale_after_s must be positive")

    def classifier(self) -> ChannelClassifier:
        return ChannelClassifier(self._extension_re, self._trunk_re)


def _compile(what: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid {what} {pattern!r}: {exc}") from None


class ChannelClassifier:
    """Says what a channel name is; memoised by the name without its sequence suffix."""

    __slots__ = ("_cache", "_extension", "_trunk")

    def __init__(self, extension: re.Pattern[str], trunk: re.Pattern[str] | None) -> None:
        self._extension = extension
        self._trunk = trunk
        self._cache: dict[str, tuple[ChannelKind, str | None]] = {}

    def classify(self, name: str) -> tuple[ChannelKind, str | None]:
        """Return the channel's kind and extension (for Local channels: the extension they forward for)."""
        key = name.rpartition("-")[0] or name
        known = self._cache.get(key)
        if known is not None:
            return known
        result = self._classify(name)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _classify(self, name: str) -> tuple[ChannelKind, str | None]:
        if name.startswith("Local/"):
            local = _LOCAL_EXTENSION.match(name)
            return ChannelKind.LOCAL, local.group("ext") if local else None
        if name.startswith(_PBX_OWN):
            return ChannelKind.LOCAL, None
        if self._trunk is not None and self._trunk.search(name):
            return ChannelKind.EXTERNAL, None
        match = self._extension.search(name)
        if match is None:
            return ChannelKind.EXTERNAL, None
        ext = match.group("ext") if "ext" in self._extension.groupindex else match.group(1)
        return (ChannelKind.ENDPOINT, ext) if ext else (ChannelKind.EXTERNAL, None)
