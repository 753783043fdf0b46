"""The repositories the services use, as protocols: what the database adapter implements.

The services depend on these, never on the adapter; ``crm_core.adapters`` provides the SQLAlchemy ones.
One module a part of the CRM, as in ``crm_core.adapters.repositories``.
"""
