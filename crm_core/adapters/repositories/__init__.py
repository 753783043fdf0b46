"""Repositories: each reads and writes one aggregate on the unit of work's connection; none commits."""

from crm_core.adapters.repositories.calls import CallRepository
from crm_core.adapters.repositories.contacts import ContactRepository
from crm_core.adapters.repositories.deals import DealRepository
from crm_core.adapters.repositories.events import EventRepository
from crm_core.adapters.repositories.funnel import LostReasonRepository, PipelineRepository
from crm_core.adapters.repositories.outbox import OutboxRepository
from crm_core.adapters.repositories.tasks import TaskRepository
from crm_core.adapters.repositories.users import UserRepository

__all__ = [
    "CallRepository",
    "ContactRepository",
    "DealRepository",
    "EventRepository",
    "LostReasonRepository",
    "OutboxRepository",
    "PipelineRepository",
    "TaskRepository",
    "UserRepository",
]
