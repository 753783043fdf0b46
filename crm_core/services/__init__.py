"""Use cases. Each public method owns its transaction and takes the acting user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm_core.services.calls import CallService
from crm_core.services.deals import DealService
from crm_core.services.funnel import PipelineService
from crm_core.services.tasks import TaskService
from crm_core.services.users import UserService

if TYPE_CHECKING:
    from crm_core.services.context import Crm

__all__ = ["CallService", "Crm", "DealService", "PipelineService", "TaskService", "UserService"]


def __getattr__(name: str) -> Any:
    # ``Crm`` is imported on first use: it needs the reports, which need ``services.base``, so an
    # eager import here makes ``import crm_core.reports...`` fail when it comes first.
    if name == "Crm":
        from crm_core.services.context import Crm

        return Crm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
