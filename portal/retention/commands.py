"""`flask retention run [--dry-run]`: remove (or count) what is past its retention period, by category."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.db import utcnow
from portal.retention import services
from portal.retention.models import Trigger

retention_cli = AppGroup("retention", help="The data retention policy.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed; change nothing.")
def run_command(dry_run: bool) -> None:
    """Remove every kind of data kept longer than its period, and print what was removed by category."""
    now = utcnow()
    if dry_run:
        lines = services.preview(now)
        verb = "would remove"
    else:
        run = services.run_retention(now, Trigger.COMMAND)
        lines = services.lines_of(run)
        verb = "removed"
    width = max((len(line.label) for line in lines), default=0)
    for line in lines:
        result = f"{verb} {line.count}" if line.error is None else f"FAILED: {line.error}"
        click.echo(f"{line.label:<{width}}  kept {line.period_text}: {result}")
    total = sum(line.count or 0 for line in lines)
    click.echo(f"Total: {verb} {total}" + (" (dry run: nothing was changed)" if dry_run else ""))
    if any(line.error for line in lines):
        raise click.ClickException("Some categories could not be purged; see above and the log.")
