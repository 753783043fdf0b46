"""The framework-neutral chat core: events in, views out, over crm_core services."""
