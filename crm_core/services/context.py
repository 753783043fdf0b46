"""The CRM as one object: every service over one database, clock and configuration."""

from __future__ import annotations

from crm_core.config import CrmConfig
from crm_core.ports import Clock, RecordingFiles, SystemClock
from crm_core.reports.digest import DigestService
from crm_core.reports.fields import FieldReportService
from crm_core.reports.summary import SummaryService
from crm_core.reports.targets import TargetService
from crm_core.services.api_tokens import ApiTokenService
from crm_core.services.call_outcomes import CallOutcomeService
from crm_core.services.calls import CallService
from crm_core.services.contacts import ContactService
from crm_core.services.conversations import DialogService, Ledger
from crm_core.services.deals import DealService
from crm_core.services.dialing import DialService
from crm_core.services.fields import FieldService
from crm_core.services.followups import FollowUpService
from crm_core.services.funnel import PipelineService
from crm_core.services.imports import ImportService
from crm_core.services.outbox import OutboxService
from crm_core.services.recordings import RecordingService
from crm_core.services.tasks import TaskService
from crm_core.services.team import InviteService
from crm_core.services.transfer import TransferService
from crm_core.services.unit_of_work import Storage
from crm_core.services.users import UserService
from crm_core.services.web_forms import WebFormService
from crm_core.services.webhooks import WebhookService


class Crm:
    """What the edges talk to: ``crm.deals.move(...)``, ``crm.calls.ingest_call(...)``, ``crm.reports...``."""

    def __init__(
        self,
        db: Storage,
        *,
        clock: Clock | None = None,
        config: CrmConfig | None = None,
        recording_files: RecordingFiles | None = None,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.config = config or CrmConfig()
        args = (db, self.clock, self.config)
        self.users = UserService(*args)
        self.pipelines = PipelineService(*args)
        self.fields = FieldService(*args)
        self.deals = DealService(*args)
        self.tasks = TaskService(*args)
        self.calls = CallService(*args)
        self.dialing = DialService(*args)
        self.call_outcomes = CallOutcomeService(*args)
        self.reports = DigestService(*args)
        self.field_reports = FieldReportService(*args)
        self.transfer = TransferService(*args)
        self.imports = ImportService(*args)
        self.invites = InviteService(*args)
        self.dialogs = DialogService(*args)
        self.ledger = Ledger(*args)
        self.followups = FollowUpService(*args)
        self.outbox = OutboxService(*args)
        self.recordings = RecordingService(*args, files=recording_files)
        self.targets = TargetService(*args)
        self.summary = SummaryService(*args)
        self.api_tokens = ApiTokenService(*args)
        self.webhooks = WebhookService(*args)
        self.web_forms = WebFormService(*args)
        self.contacts = ContactService(*args)
