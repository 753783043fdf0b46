"""The ``kanbot`` command as one Typer app, a sub-app per area (``kanbot.cli.main`` starts it)."""

from __future__ import annotations

import typer

from kanbot.cli import (
    bridge,
    deals,
    demo,
    forms,
    hooks,
    ops,
    pipeline,
    reports,
    serve,
    setup,
    targets,
    tasks,
    tokens,
    transfer,
    users,
)

app = typer.Typer(
    name="kanbot",
    help="Kanbot: a sales CRM whose front end is a Telegram chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(setup.init)
app.add_typer(setup.db_app, name="db")
app.add_typer(users.app, name="user")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(deals.app, name="deal")
app.add_typer(tasks.app, name="task")
app.command("report")(reports.report)
app.add_typer(targets.app, name="target")
app.add_typer(transfer.export_app, name="export")
app.add_typer(transfer.import_app, name="import")
app.add_typer(tokens.app, name="token")
app.add_typer(hooks.app, name="hooks")
app.add_typer(forms.app, name="form")
app.add_typer(bridge.app, name="bridge")
app.command("run")(serve.run)
app.command("emulator")(serve.emulator)
app.command("outbox")(serve.outbox)
app.command("tick")(serve.tick)
app.command("serve")(ops.serve)
app.add_typer(ops.webhook_app, name="webhook")
app.command("doctor")(ops.doctor)
app.command("demo")(demo.demo)
