"""The ``kanbot`` command line and the composition root that wires the CRM core to its edges."""
