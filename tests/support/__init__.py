"""What more than one test folder uses, in one place.

- ``network``: a free port, and a TCP proxy that cuts a database link as a network outage does.
- ``browser``: headless Chromium for the tests that drive a page (the ``browser`` fixture).
- ``databases``: tests written for one database backend (``SQLITE_ONLY``, ``POSTGRES_ONLY``).
- ``running``: the Telegram emulator, Kanbot running against it and the team's chat, as fixtures that a
  folder's ``conftest.py`` takes in by importing them.

A folder's own helpers stay beside its tests (``tests/e2e/harness.py`` drives the emulated chat and
runs Kanbot in the test's event loop; ``tests/ops/support.py`` runs the real ``kanbot`` executable).
"""
