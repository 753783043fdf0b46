"""Use cases. Each public method owns its transaction and takes the acting user."""

from crm_core.services.calls import CallService
from crm_core.services.context import Crm
from crm_core.services.deals import DealService
from crm_core.services.funnel import PipelineService
from crm_core.services.tasks import TaskService
from crm_core.services.users import UserService

__all__ = ["CallService", "Crm", "DealService", "PipelineService", "TaskService", "UserService"]
