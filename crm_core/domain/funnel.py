"""The sales funnel: a pipeline of stages that deals move through."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from crm_core.domain.errors import InvalidInput, NotFound


class StageKind(enum.StrEnum):
    INBOX = "inbox"
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Stage:
    """A column of the kanban."""

    id: int
    pipeline_id: int
    name: str
    position: int
    kind: StageKind
    follow_up_after: timedelta | None = None
    playbook: str = ""
    probability: int = 0

    @property
    def is_closed(self) -> bool:
        return self.kind in (StageKind.WON, StageKind.LOST)

    @property
    def is_open(self) -> bool:
        return not self.is_closed


@dataclass(frozen=True, slots=True)
class Pipeline:
    """An ordered set of stages; one pipeline is the default."""

    id: int
    name: str
    is_default: bool
    stages: tuple[Stage, ...]
    numbers: tuple[str, ...] = ()  # the DIDs (E.164) whose calls from new numbers open deals here

    @property
    def path(self) -> tuple[Stage, ...]:
        """The stages a deal walks forward through: inbox, open stages, then won (lost is off the path)."""
        return tuple(s for s in self.stages if s.kind is not StageKind.LOST)

    @property
    def inbox(self) -> Stage:
        return next(s for s in self.stages if s.kind is StageKind.INBOX)

    @property
    def won(self) -> Stage:
        return next(s for s in self.stages if s.kind is StageKind.WON)

    @property
    def lost(self) -> Stage:
        return next(s for s in self.stages if s.kind is StageKind.LOST)

    def stage(self, stage_id: int) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise NotFound("stage", stage_id)

    def find(self, ref: str | int) -> Stage:
        """A stage by id or by name (case-insensitive)."""
        text = str(ref).strip()
        if text.isdigit():
            for s in self.stages:
                if s.id == int(text):
                    return s
        folded = text.casefold()
        for s in self.stages:
            if s.name.casefold() == folded:
                return s
        raise NotFound("stage", ref)

    def counterpart(self, other: Pipeline, stage: Stage) -> Stage:
        """Where a deal in ``stage`` of the ``other`` pipeline lands here when it changes pipeline with
        no stage named: the open stage at the same place on the path (the inbox when there is none)."""
        index = other.path.index(stage) if stage in other.path else -1
        path = self.path
        if 0 <= index < len(path) and path[index].is_open:
            return path[index]
        return self.inbox

    def next_after(self, stage: Stage) -> Stage | None:
        path = self.path
        if stage not in path:
            return None
        index = path.index(stage)
        return path[index + 1] if index + 1 < len(path) else None

    def previous_before(self, stage: Stage) -> Stage | None:
        path = self.path
        if stage not in path:
            return None
        index = path.index(stage)
        return path[index - 1] if index > 0 else None

    def ordinal(self, stage: Stage) -> tuple[int, int]:
        """Where ``stage`` is on the path, as (n, of) for "3/7 Commercial offer"; lost is (0, of)."""
        path = self.path
        return (path.index(stage) + 1 if stage in path else 0, len(path))


@dataclass(frozen=True, slots=True)
class StageSpec:
    """A stage as a funnel file describes it, before it is stored."""

    name: str
    kind: StageKind
    follow_up_after: timedelta | None = None
    playbook: str = ""
    probability: int = 0
    move_deals_to: str | None = None
    id: int | None = None


def check_stage_specs(specs: list[StageSpec]) -> None:
    """Refuse a funnel that deals could not walk through."""
    if sum(1 for s in specs if s.kind is StageKind.INBOX) != 1:
        raise InvalidInput("funnel", "stages", detail="exactly one inbox stage is required")
    if not any(s.kind is StageKind.WON for s in specs):
        raise InvalidInput("funnel", "stages", detail="at least one won stage is required")
    if not any(s.kind is StageKind.LOST for s in specs):
        raise InvalidInput("funnel", "stages", detail="at least one lost stage is required")
    seen: set[str] = set()
    for spec in specs:
        name = spec.name.strip()
        if not name or len(name) > 64:
            raise InvalidInput("stage name", spec.name, detail="1 to 64 characters")
        if name.casefold() in seen:
            raise InvalidInput("stage name", spec.name, detail="names must be unique")
        seen.add(name.casefold())
        if spec.follow_up_after is not None and spec.follow_up_after <= timedelta(0):
            raise InvalidInput("follow_up_after", spec.name, detail="durations must be positive")
        if not 0 <= spec.probability <= 100:
            raise InvalidInput("probability", spec.probability, detail="0 to 100")
        if len(spec.playbook) > 200:
            raise InvalidInput("playbook", spec.name, detail="at most 200 characters")


DEFAULT_FUNNEL: tuple[StageSpec, ...] = (
    StageSpec(
        "Unsorted", StageKind.INBOX, timedelta(hours=2), "Call the customer back and qualify the request", 5
    ),
    StageSpec(
        "Opportunity", StageKind.OPEN, timedelta(days=3), "Find the need, the budget and who decides", 15
    ),
    StageSpec(
        "Commercial offer",
        StageKind.OPEN,
        timedelta(days=3),
        "Send the offer and agree on a follow-up call",
        35,
    ),
    StageSpec(
        "Document approval",
        StageKind.OPEN,
        timedelta(days=5),
        "Get the contract approved by the customer's side",
        55,
    ),
    StageSpec(
        "Signing & payment",
        StageKind.OPEN,
        timedelta(days=3),
        "Get the contract signed and the invoice paid",
        80,
    ),
    StageSpec(
        "Execution", StageKind.OPEN, timedelta(days=14), "Deliver and confirm the customer is satisfied", 95
    ),
    StageSpec("Won", StageKind.WON, None, "Ask for a referral and plan the next sale", 100),
    StageSpec("Lost", StageKind.LOST, None, "Note why, and plan a check-in in a few months", 0),
)

DEFAULT_LOST_REASONS: tuple[str, ...] = (
    "Price",
    "Chose a competitor",
    "No budget",
    "No response",
    "Not a fit",
    "Other",
)
OTHER_REASON = "Other"
