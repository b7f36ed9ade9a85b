"""``ethica monitor``: count the decision log's daily windows, and report from them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ethica.cli_service import DatabaseOption, _fail, _sessions
from ethica.errors import EthicaError

console = Console()
monitor_app = typer.Typer(
    help="Monitor systems over time: fairness gaps, change points, alerts.", no_args_is_help=True
)


@monitor_app.command("run")
def monitor_run(
    system: Annotated[
        str | None, typer.Option("--system", help="One system (default: every system).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Count whole days before this ISO date (default: now)."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Count every whole day not counted yet, recount late outcomes' days, raise new alerts.

    Each alert a system's rules find on its last seven counted days is a ledger entry; one still
    open or acknowledged is not raised twice.
    """
    from datetime import UTC
    from functools import partial

    from ethica.service.ledger.writer import LedgerWriter
    from ethica.service.monitoring.job import MonitorPass, monitor_system
    from ethica.service.systems.service import list_systems

    now = datetime.now(UTC)
    end = _moment(until) if until else now
    with _sessions(database) as (settings, sessions):
        with sessions() as session:
            ids = [system] if system else [s.id for s in list_systems(session, limit=10_000)[0]]
        writer = LedgerWriter(sessions, settings.ledger.master_key_bytes)
        try:
            for system_id in ids:
                done: MonitorPass = writer.run(
                    partial(
                        monitor_system,
                        system_id=system_id,
                        database_url=settings.database.url,
                        master_key=settings.ledger.master_key_bytes,
                        until=end,
                        now=now,
                    )
                )
                console.print(
                    f"{system_id}: counted {len(done.run.built)} new day(s), recounted "
                    f"{len(done.run.refreshed)} day(s) for late outcomes, raised "
                    f"{len(done.raised)} alert(s)"
                )
        except EthicaError as error:
            _fail(str(error))
        finally:
            writer.close()


@monitor_app.command("report")
def monitor_report(
    system: Annotated[str, typer.Option("--system", help="The system to report on.")],
    since: Annotated[
        str, typer.Option("--since", help="30d, 12h, or an ISO timestamp with a timezone.")
    ] = "90d",
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as an HTML page here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Report gaps per day, where they changed, and the alerts that fire, from stored windows."""
    from datetime import UTC

    from ethica.service.decisions.live_audit import parse_since
    from ethica.service.monitoring.service import system_report

    start = parse_since(since, now=datetime.now(UTC))
    with _sessions(database) as (_, sessions), sessions() as session:
        report = system_report(session, system_id=system, since=start)
    if html is not None:
        html.write_text(report.to_html(), encoding="utf-8")
    if as_json:
        typer.echo(report.to_json())
        return
    console.print(f"{system}: {report.decisions} decisions in {report.windows} daily windows")
    for trend in report.trends:
        when = trend.changed_at.date().isoformat() if trend.changed_at else "no change"
        console.print(f"  {trend.grouping} = {trend.group}: {when}")
    for alert in report.alerts:
        console.print(
            f"  {alert.severity.upper()} {alert.rule}: {alert.subject} = {alert.group} "
            f"gap {alert.value:+.3f} (threshold {alert.threshold:.2f})"
        )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(
            f"--until takes an ISO date with a timezone (2026-12-01T00:00:00+00:00), not {text!r}"
        )
    if moment.tzinfo is None:
        _fail("give --until with a timezone, e.g. 2026-12-01T00:00:00+00:00")
    return moment
