"""Command-line operations of the service: serve, register systems, accounts, retention, erasure.

Service modules are imported inside each command, so ``ethica audit`` works without the
service extras installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)

systems_app = typer.Typer(help="Register and inspect AI systems.", no_args_is_help=True)
users_app = typer.Typer(help="Staff users and application API keys.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention periods of decision records.", no_args_is_help=True)
subjects_app = typer.Typer(help="Data subjects' rights.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL (default: ETHICA__DATABASE__URL or sqlite:///ethica.db)."
    ),
]


#: Where ``ethica demo`` (``make demo``) leaves its database, from the folder it ran in.
DEMO_DATABASE = Path("out/demo/ethica.db")


def _settings(database: str | None) -> Any:
    from pydantic import ValidationError

    from ethica.service.settings import DatabaseSettings, Settings, settings_problem

    try:
        settings = Settings()
    except ValidationError as error:
        _fail(settings_problem(error))
    default = DatabaseSettings.model_fields["url"].default
    unset = database is None and settings.database.url == default
    if unset and not Path(default.removeprefix("sqlite:///")).exists() and DEMO_DATABASE.exists():
        # After `make demo` in the project folder, the commands work on the demo's database
        # rather than silently creating an empty ./ethica.db.
        database = f"sqlite:///{DEMO_DATABASE}"
    if database is not None:
        settings = settings.model_copy(
            update={"database": settings.database.model_copy(update={"url": database})}
        )
    return settings


def database_shown(url: str) -> str:
    """Return the database URL fit to print: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _sessions(database: str | None) -> Iterator[tuple[Any, Any]]:
    """Yield the settings and a session factory on the migrated database, then close it."""
    from ethica.service.state import build_state

    state = build_state(_settings(database), migrate=True)
    try:
        yield state.settings, state.sessions
    finally:
        state.close()


def _on_writer(database: str | None, job: Any) -> Any:
    """Run one ledger-affecting job on its own writer (no shard, no checkpoint) and commit it.

    Domain errors end the command with their message.
    """
    return _with_writer(database, lambda writer: writer.run(job))


def _with_writer(database: str | None, use: Any) -> Any:
    """Call ``use(writer)`` with a writer of its own (no shard, no checkpoint); see _on_writer."""
    from ethica.errors import EthicaError
    from ethica.service.ledger.writer import LedgerWriter

    with _sessions(database) as (settings, sessions):
        writer = LedgerWriter(sessions, settings.ledger.master_key_bytes)
        try:
            return use(writer)
        except EthicaError as error:
            _fail(str(error))
        finally:
            writer.close()


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        _fail(f"cannot read the JSON file {path}: {error}")


def _fail(message: str) -> Any:
    errors.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, for logs
    raise typer.Exit(code=2)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes. Each appends decisions to its own shard of the ledger's "
            "chains; more than one uses more cores (the GIL limits one process to about one).",
        ),
    ] = 1,
) -> None:
    """Run the service (migrating the database first)."""
    import uvicorn

    from ethica.errors import EthicaError
    from ethica.service.app import create_app
    from ethica.service.subjects.replay import refuse_restored_erasures

    if workers == 1:
        try:
            app = create_app(_settings(database))
        except EthicaError as error:  # e.g. erased subjects restored from a backup
            _fail(str(error))
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
        return
    # Migrated once, before the workers start: they would race to migrate.
    with _sessions(database) as (settings, sessions):
        try:
            refuse_restored_erasures(sessions, master_key=settings.ledger.master_key_bytes)
        except EthicaError as error:  # e.g. erased subjects restored from a backup
            _fail(str(error))
    # The workers are new processes that read their settings from the environment.
    os.environ["ETHICA__DATABASE__URL"] = settings.database.url
    uvicorn.run(
        "ethica.service.app:create_worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )


@systems_app.command("apply")
def apply(
    spec_file: Annotated[Path, typer.Argument(help="The system's YAML spec.")],
    database: DatabaseOption = None,
) -> None:
    """Validate a system spec and register it (with its model, when the spec names one)."""
    from ethica.errors import EthicaError
    from ethica.governance import load_spec
    from ethica.service.governance.service import register_system
    from ethica.service.ledger.writer import Batch
    from ethica.service.systems import service

    try:
        spec = load_spec(spec_file)
    except EthicaError as error:
        _fail(str(error))
    model_bytes: bytes | None = None
    summary = None
    if spec.model is not None:
        path = (spec_file.parent / spec.model.path).resolve()
        if not path.is_file():
            _fail(f"the model file {path} named by the spec does not exist")
        model_bytes = path.read_bytes()
        if spec.model.training_summary is not None:
            summary = _read_json((spec_file.parent / spec.model.training_summary).resolve())

    def job(batch: Batch) -> tuple[str, str, bool]:
        # The same use case as PUT /v1/systems/{id}: spec and classification entry together.
        system, created = register_system(batch, spec=spec, by="cli")
        if spec.model is not None and model_bytes is not None:
            service.add_model_version(
                batch.session,
                system_id=spec.id,
                version=spec.model.version,
                format=spec.model.format,
                content=model_bytes,
                training_summary=summary,
            )
        return system.id, system.name, created

    system_id, system_name, created = _on_writer(database, job)
    verb = "registered" if created else "updated"
    model = f", model version {spec.model.version}" if spec.model else ""
    console.print(f"[green]✓[/green] {verb} system [bold]{system_id}[/bold] ({system_name}{model})")


@systems_app.command("list")
def list_systems(database: DatabaseOption = None) -> None:
    """List registered systems."""
    from ethica.service.systems import service

    with _sessions(database) as (_, sessions), sessions() as session:
        rows, _ = service.list_systems(session, limit=500)
        table = Table(title="AI systems")
        for column in ("id", "name", "purpose", "risk tier", "kind", "status", "model"):
            table.add_column(column)
        for r in rows:
            table.add_row(
                r.id, r.name, r.purpose, r.risk_tier, r.kind, r.status, r.model_version or "-"
            )
    console.print(table)


ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the ledger with who did it).")
]


@systems_app.command("suspend")
def suspend_system(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    reason: ReasonOption,
    database: DatabaseOption = None,
) -> None:
    """Suspend a system (the kill switch): a person decides for it until it is resumed."""
    _change_status(system_id, reason, database, act="suspend")


@systems_app.command("resume")
def resume_system(
    system_id: Annotated[str, typer.Argument(help="The system's id.")],
    reason: ReasonOption,
    database: DatabaseOption = None,
) -> None:
    """Let a suspended system's model decide again."""
    _change_status(system_id, reason, database, act="resume")


def _change_status(system_id: str, reason: str, database: str | None, *, act: str) -> None:
    from ethica.service.systems import suspension

    change = suspension.suspend if act == "suspend" else suspension.resume
    changed = _on_writer(
        database, lambda batch: change(batch, system_id=system_id, reason=reason, by="cli")
    )
    console.print(
        f"[green]✓[/green] system [bold]{system_id}[/bold] is {changed.status} "
        f"(ledger {changed.ledger.chain}#{changed.ledger.sequence})"
    )


@systems_app.command("minimize")
def minimize_system(
    system: Annotated[str, typer.Argument(help="The system's id.")],
    database: DatabaseOption = None,
    since: Annotated[
        str, typer.Option(help="Recent decisions: 30d, 12h, 90m or an ISO timestamp.")
    ] = "30d",
    limit: Annotated[int, typer.Option(help="Replay at most this many decisions.", min=1)] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Which declared features the model's recent decisions do not need (data minimization)."""
    import json
    import sys
    from datetime import UTC, datetime

    from ethica.errors import EthicaError
    from ethica.service.decisions.live_audit import parse_since
    from ethica.service.systems.minimize import minimization_report

    try:
        window = parse_since(since, now=datetime.now(UTC))
        with _sessions(database) as (settings, sessions), sessions() as session:
            report = minimization_report(
                session,
                system_id=system,
                master_key=settings.ledger.master_key_bytes,
                since=window,
                limit=limit,
            )
    except EthicaError as error:
        _fail(str(error))
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), default=str) + "\n")
        return
    table = Table(
        title=f"Features of {system} (model {report.model_version}): "
        f"{report.decisions} decisions, {report.replayed} replayed"
    )
    for column in ("feature", "provided", "mean |score change|", "flips", "replaced by", "advice"):
        table.add_column(column)
    for use in report.features:
        table.add_row(
            use.feature,
            f"{use.provided}/{report.decisions}",
            "-" if use.contribution is None else f"{use.contribution:.4g}",
            "-" if use.flips is None else f"{use.flips:.1%}",
            f"{use.replaced_by!r} ({use.replaced_from})",
            use.recommendation,
        )
    console.print(table)
    console.print(f"Recommended to drop: {', '.join(report.drop) or 'none'}")
    console.print(f"Declared but never provided: {', '.join(report.never_provided) or 'none'}")


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="The user's email (their login).")],
    role: Annotated[str, typer.Option(help="admin, officer or reviewer.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    database: DatabaseOption = None,
) -> None:
    """Create a staff user; the password is asked for (never passed as an argument)."""
    from ethica.errors import EthicaError
    from ethica.service.db import unit_of_work
    from ethica.service.users import service

    if role not in ("admin", "officer", "reviewer"):
        _fail("--role must be admin, officer or reviewer")
    password = typer.prompt(
        "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
    )
    if len(password) < 12:
        _fail("the password must have at least 12 characters")
    try:
        with _sessions(database) as (_, sessions), unit_of_work(sessions) as session:
            user = service.create_user(
                session, email=email, name=name or email, role=role, password=password
            )
    except EthicaError as error:
        _fail(str(error))
    console.print(f"[green]✓[/green] created {user.role} {user.email}")


@users_app.command("key")
def create_key(
    name: Annotated[str, typer.Option(help="The application's name.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes.")] = "decisions:write",
    database: DatabaseOption = None,
) -> None:
    """Create an application API key; it is printed once and stored only as a hash."""
    from ethica.errors import EthicaError
    from ethica.service.db import unit_of_work
    from ethica.service.users import service

    try:
        with _sessions(database) as (_, sessions), unit_of_work(sessions) as session:
            _, key = service.create_api_key(
                session, name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()]
            )
    except EthicaError as error:
        _fail(str(error))
    console.print(key)


@retention_app.command("run")
def retention_run(
    database: DatabaseOption = None,
    now: Annotated[
        str | None,
        typer.Option(help="Apply the periods as at this ISO 8601 time (default: now, UTC)."),
    ] = None,
) -> None:
    """Unlink decisions older than their system's retention period; report per system."""
    from datetime import UTC, datetime

    from ethica.service.decisions.retention import apply_retention

    moment: datetime | None = None
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            _fail(f"--now {now!r} is not an ISO 8601 time such as 2026-01-31T00:00:00+00:00")
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    reports = _on_writer(database, lambda batch: apply_retention(batch, now=moment))
    table = Table(title="Retention")
    columns = ("system", "months", "cutoff", "decisions unlinked", "protected values deleted")
    for column in (*columns, "keys destroyed"):
        table.add_column(column)
    for r in reports:
        table.add_row(
            r.system_id,
            str(r.retention_months),
            r.cutoff.isoformat(timespec="seconds"),
            str(r.decisions_unlinked),
            str(r.protected_values_deleted),
            str(r.keys_destroyed),
        )
    console.print(table if reports else "no system declares retention_months")


@subjects_app.command("erase")
def erase_subject(
    subject: Annotated[str, typer.Argument(help="The subject's pseudonymous id.")],
    database: DatabaseOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a subject (GDPR Art. 17): destroy their key, unlink their decisions; irreversible."""
    from ethica.errors import EthicaError
    from ethica.service.subjects import service
    from ethica.service.subjects.ids import check_subject_id

    try:
        check_subject_id(subject)
    except EthicaError as error:
        _fail(str(error))
    if not yes and not typer.confirm(f"Erase subject {subject!r}? This cannot be undone."):
        raise typer.Exit(code=1)
    request = _with_writer(
        database,
        lambda writer: service.run_erasure(writer, subject_id=subject, requested_by="cli"),
    )
    result = request.result or {}
    console.print(
        f"[green]✓[/green] erased {subject}: key destroyed {result.get('key_destroyed')}, "
        f"{result.get('decisions_unlinked')} decisions unlinked, "
        f"{result.get('protected_values_deleted')} protected values deleted"
    )


@subjects_app.command("replay-erasures")
def replay_erasures(database: DatabaseOption = None) -> None:
    """After restoring a backup: erase again every subject the erasure journal says was erased.

    Run it before `ethica serve`, which refuses to start until it has. Names nobody.
    """
    from ethica.service.subjects import replay

    master_key = _settings(database).ledger.master_key_bytes
    reapplied, listed = _with_writer(
        database, lambda writer: replay.replay_erasures(writer, master_key=master_key)
    )
    console.print(
        f"[green]✓[/green] re-applied {reapplied} erasure(s); the journal lists {listed} "
        "erased subject(s), the others are not in this database or were erased in it"
    )
