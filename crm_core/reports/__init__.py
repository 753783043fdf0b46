"""Funnel reports: typed figures computed by SQL aggregation."""

from crm_core.reports.models import Period
from crm_core.reports.service import ReportService

__all__ = ["Period", "ReportService"]
