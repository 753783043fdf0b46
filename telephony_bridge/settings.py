"""Settings of the telephony bridge, one class per component, read from ``KANBOT_*`` variables."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from telephony_bridge.ami.config import (
    DEFAULT_EXTENSION_PATTERN,
    DEFAULT_INBOUND_CONTEXTS,
    DEFAULT_STALE_AFTER_S,
    DEFAULT_TRUNK_PATTERN,
    TrackerConfig,
)
from telephony_bridge.dialing.ami import OriginateConfig
from telephony_bridge.recordings.mixmonitor import MixMonitorFiles, check_template

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = Annotated[tuple[Network, ...], NoDecode]
_PLACEHOLDERS = frozenset({"changeme", "changethis", "change-me", "secret", "your-secret", "xxx"})
_BASE_URL = re.compile(r"https?://[^/?#\s]+(/[^?#\s]*)?")

ADMIN_SECRET_MIN = 16
# The shortest value each secret may have, and what to do about a shorter one. A secret the admin
# chooses needs 16 characters (a random one cannot be guessed). A provider's is as long as the provider
# issues them, so a real one always passes and a truncated paste does not: Twilio's Auth Token is 32 hex
# digits, Zadarma's API secret 20 characters; Mango Office's key and salt are asked for 16 (the ones it
# issues are longer).
_CHOSEN = f"at least {ADMIN_SECRET_MIN} are needed (`openssl rand -hex 32` makes one)"
SECRET_MINIMUMS: dict[str, tuple[int, str]] = {
    "calls_secret": (ADMIN_SECRET_MIN, _CHOSEN),
    "ami_secret": (
        ADMIN_SECRET_MIN,
        f"at least {ADMIN_SECRET_MIN} are needed in manager.conf and here (`openssl rand -hex 32` makes one)",
    ),
    "twilio_auth_token": (
        32,
        "Twilio's Auth Tokens have at least 32 (copy it again from the Twilio Console)",
    ),
    "zadarma_secret": (20, "Zadarma's API secrets have at least 20 (copy it again from Settings → API)"),
    "mango_api_key": (16, "Mango Office's keys have at least 16 (copy it again from the API connector)"),
    "mango_api_salt": (16, "Mango Office's keys have at least 16 (copy it again from the API connector)"),
}


def secret_or_none(value: object) -> object:
    """An empty secret means "not configured"; a placeholder ("changeme") is refused, never used."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str):
        if not text.strip():
            return None
        if text.strip().lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder, not a secret: set the real value or leave it unset")
    return value


def long_enough(value: SecretStr | None, field: str) -> SecretStr | None:
    """A secret shorter than its minimum (``SECRET_MINIMUMS``) is refused, never used."""
    if value is None:
        return None
    minimum, advice = SECRET_MINIMUMS[field]
    length = len(value.get_secret_value().strip())
    if length < minimum:
        raise ValueError(f"is {length} character{'' if length == 1 else 's'} long, and {advice}")
    return value


def base_url_or_none(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip().rstrip("/")
    if not _BASE_URL.fullmatch(url):
        raise ValueError("must look like https://crm.example.com (scheme, host and optional path prefix)")
    return url


def networks(value: object) -> object:
    """``185.45.152.42, 10.0.0.0/8`` as networks (an address is a network of one)."""
    if not isinstance(value, str):
        return value
    found = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part[:40]!r} is not an IP address or network (such as 185.45.152.42 or 10.0.0.0/8)"
            ) from None
    return tuple(found)


def region(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError("must be a two-letter country code such as RU or US")
    return code


class CloudPbxSettings(BaseSettings):
    """Secrets and addresses of the cloud PBX webhooks and of ``POST /api/v1/calls``.

    A secret left unset switches its endpoint off (it answers 503), it never opens it.
    ``zadarma_allowed_ips``: when set, Zadarma's endpoint answers only these addresses (403 to others).
    ``trusted_proxies``: reverse proxies whose ``X-Forwarded-For`` tells the sender's address; without
    them the address is the connection's own peer, whatever the headers say.
    """

    model_config = SettingsConfigDict(
        env_prefix="KANBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    twilio_auth_token: SecretStr | None = None
    zadarma_secret: SecretStr | None = None
    mango_api_key: SecretStr | None = None
    mango_api_salt: SecretStr | None = None
    calls_secret: SecretStr | None = None
    public_url: str | None = None
    default_region: str = "RU"
    zadarma_timezone: str = "UTC"
    max_body_bytes: int = Field(default=65536, gt=0, le=16 * 1024 * 1024)
    zadarma_allowed_ips: Networks = ()
    trusted_proxies: Networks = ()

    _networks = field_validator("zadarma_allowed_ips", "trusted_proxies", mode="before")(networks)

    @field_validator(
        "twilio_auth_token",
        "zadarma_secret",
        "mango_api_key",
        "mango_api_salt",
        "calls_secret",
        mode="before",
    )
    @classmethod
    def _refuse_placeholders(cls, value: object) -> object:
        return secret_or_none(value)

    @field_validator("twilio_auth_token", "zadarma_secret", "mango_api_key", "mango_api_salt", "calls_secret")
    @classmethod
    def _refuse_short_secrets(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return long_enough(value, str(info.field_name))

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        return base_url_or_none(value)

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        return region(value)

    @field_validator("zadarma_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Moscow") from None
        return value


class AmiSettings(BaseSettings):
    """The Asterisk bridge: the AMI login, how to read this PBX's channels, the spool and the CRM link.

    ``KANBOT_AMI_INBOUND_CONTEXTS`` is comma-separated (``from-pstn,from-trunk``); the two patterns are
    regular expressions over channel names (see ``docs/telephony-asterisk.md``).
    """

    model_config = SettingsConfigDict(
        env_prefix="KANBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, gt=0, lt=65536)
    ami_username: str | None = None
    ami_secret: SecretStr | None = None
    ami_inbound_contexts: str = ",".join(DEFAULT_INBOUND_CONTEXTS)
    ami_extension_pattern: str = DEFAULT_EXTENSION_PATTERN
    ami_trunk_pattern: str | None = DEFAULT_TRUNK_PATTERN
    ami_spool_path: Path = Path("var/bridge-spool.sqlite")
    ami_stale_call_after_s: float = Field(default=DEFAULT_STALE_AFTER_S, gt=0)
    default_region: str = "RU"
    crm_url: str | None = None
    calls_secret: SecretStr | None = None
    # Where MixMonitor writes the calls' recordings, and the file name of a call's (``{call_id}``: its
    # Linkedid); unset, Asterisk's recordings are not carried to the CRM.
    ami_recordings_dir: Path | None = None
    ami_recording_file: str = "{call_id}.wav"

    @field_validator("ami_recording_file")
    @classmethod
    def _check_recording_file(cls, value: str) -> str:
        return check_template(value)

    def mixmonitor(self) -> MixMonitorFiles | None:
        """Asterisk's recordings, when ``KANBOT_AMI_RECORDINGS_DIR`` is set."""
        if self.ami_recordings_dir is None:
            return None
        return MixMonitorFiles(self.ami_recordings_dir, self.ami_recording_file)

    @field_validator("ami_secret", "calls_secret", mode="before")
    @classmethod
    def _refuse_placeholder_secrets(cls, value: object) -> object:
        return secret_or_none(value)

    @field_validator("ami_secret", "calls_secret")
    @classmethod
    def _refuse_short_ami_secrets(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return long_enough(value, str(info.field_name))

    @field_validator("ami_trunk_pattern", mode="before")
    @classmethod
    def _empty_trunk_pattern_means_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("default_region")
    @classmethod
    def _check_ami_region(cls, value: str) -> str:
        return region(value)

    @field_validator("crm_url")
    @classmethod
    def _check_crm_url(cls, value: str | None) -> str | None:
        return base_url_or_none(value)

    @property
    def inbound_contexts(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.ami_inbound_contexts.split(",") if part.strip())

    def tracker_config(self) -> TrackerConfig:
        """The call tracker's setup; raises ``ValueError`` on an invalid pattern."""
        return TrackerConfig(
            inbound_contexts=self.inbound_contexts,
            extension_pattern=self.ami_extension_pattern,
            trunk_pattern=self.ami_trunk_pattern,
            region=self.default_region,
            stale_after_s=self.ami_stale_call_after_s,
        )


DIAL_VIA = ("asterisk", "bridge", "twilio", "zadarma", "mango")


class DialSettings(BaseSettings):
    """Calls placed from the CRM ("📞 Call" on a card): which PBX places them, and how.

    ``KANBOT_DIAL_VIA``: ``asterisk`` (AMI ``Originate`` from the CRM process, over the AMI listener's
    session), ``bridge`` (a separate ``kanbot bridge ami`` fetches the requests over the signed API),
    ``twilio``, ``zadarma`` or ``mango`` (their call-back APIs); unset, no card offers "Call".
    """

    model_config = SettingsConfigDict(
        env_prefix="KANBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    dial_via: str | None = None
    ami_outbound_context: str = "from-internal"
    ami_originate_channel: str = "PJSIP/{extension}"
    ami_dial_number: str = "{e164}"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_caller_id: str | None = None
    twilio_record: bool = False
    twilio_api_url: str = "https://api.twilio.com"
    public_url: str | None = None
    zadarma_api_key: str | None = None
    zadarma_secret: SecretStr | None = None
    zadarma_api_url: str = "https://api.zadarma.com"
    mango_api_key: SecretStr | None = None
    mango_api_salt: SecretStr | None = None
    mango_api_url: str = "https://app.mango-office.ru/vpbx"

    @field_validator("dial_via")
    @classmethod
    def _check_dial_via(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() not in DIAL_VIA:
            raise ValueError("must be one of " + ", ".join(DIAL_VIA))
        return value.strip().lower()

    @field_validator("twilio_auth_token", "zadarma_secret", "mango_api_key", "mango_api_salt", mode="before")
    @classmethod
    def _refuse_dial_placeholders(cls, value: object) -> object:
        return secret_or_none(value)

    @field_validator("ami_originate_channel", "ami_dial_number")
    @classmethod
    def _check_templates(cls, value: str) -> str:
        try:
            value.format(extension="101", e164="+74951234567", digits="74951234567", national="4951234567")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may use only {extension}, {e164}, {digits} and {national}") from None
        return value

    @field_validator("public_url", "twilio_api_url", "zadarma_api_url", "mango_api_url")
    @classmethod
    def _check_urls(cls, value: str | None) -> str | None:
        return base_url_or_none(value)

    def originate(self) -> OriginateConfig:
        """How Asterisk is asked to place a call (AMI ``Originate``)."""
        return OriginateConfig(
            context=self.ami_outbound_context, channel=self.ami_originate_channel, number=self.ami_dial_number
        )

    def missing(self) -> list[str]:
        """The settings ``dial_via`` needs and lacks (named as variables)."""
        needs: dict[str, dict[str, object]] = {
            "twilio": {
                "KANBOT_TWILIO_ACCOUNT_SID": self.twilio_account_sid,
                "KANBOT_TWILIO_AUTH_TOKEN": self.twilio_auth_token,
                "KANBOT_TWILIO_CALLER_ID": self.twilio_caller_id,
            },
            "zadarma": {
                "KANBOT_ZADARMA_API_KEY": self.zadarma_api_key,
                "KANBOT_ZADARMA_SECRET": self.zadarma_secret,
            },
            "mango": {
                "KANBOT_MANGO_API_KEY": self.mango_api_key,
                "KANBOT_MANGO_API_SALT": self.mango_api_salt,
            },
        }
        return [name for name, value in needs.get(self.dial_via or "", {}).items() if not value]
