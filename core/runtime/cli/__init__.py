"""The `linkstar` command line: one group, its commands in a module per concern.

`base` holds what every command shares (one-line errors, the database check, the helper that
runs a command's work on a fresh engine); the commands import their heavy dependencies inside
their functions only so that start-up stays fast (see `base`).
"""

from __future__ import annotations

import gc

import click

from linkstar.core.runtime.cli import admin, database, docs, jobs, server


@click.group()
def main() -> None:
    """LinkStar: service-provider onboarding and KPI management."""
    gc.disable()  # importing only makes long-lived objects: nothing to collect (see `serve`)
    try:
        from linkstar.core.live import outbox
    finally:
        gc.enable()
    outbox.install()  # every command that writes events also fills the webhook outbox


for command in (
    server.serve,
    database.db,
    database.demo,
    jobs.dispatch_group,
    jobs.evaluate_command,
    jobs.settle_command,
    admin.accounts,
    jobs.mail,
    docs.schema,
    docs.docs,
    admin.plugins,
    jobs.webhooks,
    jobs.purge_documents,
    jobs.money_sweep_command,
):
    main.add_command(command)
