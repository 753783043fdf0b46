"""The PostgreSQL advisory locks Kanbot takes, each with its own key: one place, so no two collide.

An advisory lock is a number the whole database shares. Two jobs that took the same number would wait
on each other for no reason (an upgrade behind the digest, or the digest skipped during an upgrade);
``AdvisoryLock`` is a unique enum, so a second lock with a key already taken cannot be declared.
"""

from __future__ import annotations

import enum


def _key(name: str) -> int:
    """A lock's key from four ASCII letters, readable in ``pg_locks`` as hex: "kanb" → 0x6B616E62."""
    assert len(name) == 4 and name.isascii()
    return int.from_bytes(name.encode(), "big")


@enum.unique
class AdvisoryLock(enum.IntEnum):
    MIGRATIONS = _key("kanb")  # `kanbot db upgrade` and start-up: one process upgrades, the others wait
    WORKER = _key("kanw")  # the process that leads: it runs the scheduler and the outbox delivery
    DIGEST = _key("kand")  # the digest tick: one process at a time builds and queues the digests


# Each process's life lock (crm_core.adapters.liveness) is a two-key lock: this class, then a key of its
# own. PostgreSQL keeps two-key locks apart from the one-key locks above: they never meet.
LIVENESS_CLASS = _key("kaow")
