"""The Asterisk side of the telephony bridge: AMI events in, normalised ``CallEvent``s out."""

from telephony_bridge.ami.config import TrackerConfig
from telephony_bridge.ami.reader import parse_capture, read_capture
from telephony_bridge.ami.replay import replay, replay_file
from telephony_bridge.ami.tracker import CallTracker

__all__ = ["CallTracker", "TrackerConfig", "parse_capture", "read_capture", "replay", "replay_file"]
