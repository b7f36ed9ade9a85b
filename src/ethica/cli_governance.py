"""``ethica governance``: classify systems, track obligations, build documents, on files.

Each command reads a spec (and, where it helps, a record file of evidence, models and volumes,
see :func:`ethica.governance.load_record`) and writes to the terminal or to files. Heavy parts
(Jinja, OpenDP, pandas) load inside the commands, so ``ethica --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ethica.errors import EthicaError

if TYPE_CHECKING:
    from ethica.governance import Document, SystemRecord

governance_app = typer.Typer(
    help="Classify AI systems under the EU AI Act, track their obligations, build documents.",
    no_args_is_help=True,
)
incident_app = typer.Typer(help="Serious incidents (AI Act Art. 73) and their clocks.")
governance_app.add_typer(incident_app, name="incident")
console = Console()
errors = Console(stderr=True)

SpecArgument = Annotated[
    Path, typer.Argument(help="The system's spec (YAML), or with --database its id.")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        help="Read the system, its evidence and attestations from the service's database "
        "(its URL) instead of files."
    ),
]
RecordOption = Annotated[
    Path | None,
    typer.Option(help="A record file (YAML/JSON): evidence, attestations, models, volumes."),
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder to write the documents into.")]
FormatOption = Annotated[
    str, typer.Option("--format", help="Comma-separated: json, html, pdf (and md for cards).")
]
AtOption = Annotated[
    str | None,
    typer.Option(
        help="The documents' time (ISO, UTC); the same inputs and time give the same bytes."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(error: Exception) -> Any:
    errors.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _record(
    spec: Path, record: Path | None, database: str | None = None, *, now: datetime | None = None
) -> SystemRecord:
    from ethica.governance import SystemRecord, load_record, load_spec

    if database is not None:
        if record is not None:
            raise EthicaError("give --record or --database, not both")
        return _database_record(database, system_id=str(spec), now=now or _moment(None))
    if record is not None:
        return load_record(record, spec=spec)
    return SystemRecord(spec=load_spec(spec))


def _database_record(database: str, *, system_id: str, now: datetime) -> SystemRecord:
    # The same record the dashboard builds documents from: the evidence is gathered at ``now``.
    from ethica.cli_service import _sessions
    from ethica.service.governance.service import system_record

    with _sessions(database) as (settings, sessions), sessions() as session:
        return system_record(session, settings=settings, system_id=system_id, now=now)


def _moment(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise EthicaError(f"--at {at!r} is not an ISO time such as 2026-03-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _write(document: Document, out: Path, formats: str) -> None:
    paths = document.write(out, formats=[f.strip() for f in formats.split(",") if f.strip()])
    for path in paths:
        console.print(f"wrote {path}", highlight=False)
    open_items = len(document.for_a_person)
    if open_items:
        console.print(f"{open_items} items are marked for a person to complete.", highlight=False)


@governance_app.command("classify")
def classify_command(
    spec: SpecArgument, as_json: JsonOption = False, database: DatabaseOption = None
) -> None:
    """Classify a system under the AI Act from its spec's declared facts, citing why."""
    from ethica.governance import classify

    try:
        result = classify(_record(spec, None, database).spec)
    except EthicaError as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    console.print(result.summary(), highlight=False)
    table = Table("Provisions", "Ground", "Facts", show_lines=True)
    from ethica.governance import cite_text

    for ground in result.grounds:
        table.add_row(cite_text(ground.citations), ground.statement, "\n".join(ground.facts))
    console.print(table)
    if result.mismatch:
        errors.print(f"[yellow]{result.mismatch}[/yellow]", highlight=False)


@governance_app.command("obligations")
def obligations_command(
    spec: SpecArgument,
    record: RecordOption = None,
    today: Annotated[str | None, typer.Option(help="The day (ISO date); today by default.")] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """List every obligation of a system with its status: met, attested, missing, overdue."""
    from ethica.governance import cite_text, obligation_register

    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
        # From the database the evidence is gathered as of the day's end (now, for today).
        end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=UTC) if today else None
        loaded = _record(spec, record, database, now=end_of_day)
        register = obligation_register(
            loaded.spec, today=day, evidence=loaded.evidence, attestations=loaded.attestations
        )
    except (EthicaError, ValueError) as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(register.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    counts = ", ".join(f"{n} {key}" for key, n in register.counts().items())
    console.print(f"{register.system} on {register.today}: {counts}", highlight=False)
    table = Table("Provisions", "Obligation", "Status", "Why", show_lines=True)
    for row in register.rows:
        table.add_row(
            cite_text(row.obligation.citations), row.obligation.title, row.status.label, row.reason
        )
    console.print(table)


def _document_command(kind: str) -> Any:
    def command(
        spec: SpecArgument,
        out: OutOption,
        record: RecordOption = None,
        formats: FormatOption = "json,html,pdf",
        at: AtOption = None,
        database: DatabaseOption = None,
    ) -> None:
        from ethica import governance

        build = {
            "dossier": governance.annex_iv,
            "fria": governance.fria,
            "model-card": governance.model_card,
        }[kind]
        try:
            moment = _moment(at)
            loaded = _record(spec, record, database, now=moment)
            _write(build(loaded, generated_at=moment), out, formats)
            if kind == "dossier" and loaded.spec.ai_act is not None:
                classification = governance.classify(loaded.spec)
                if classification.high_risk or classification.exception is not None:
                    _write(governance.registration(loaded, generated_at=moment), out, formats)
        except EthicaError as error:
            _fail(error)

    command.__doc__ = {
        "dossier": "Write the Annex IV technical documentation (and Annex VIII registration).",
        "fria": "Write the Art. 27 fundamental-rights impact assessment, prefilled.",
        "model-card": "Write the model card of the latest model version (add md to --format).",
    }[kind]
    return command


governance_app.command("dossier")(_document_command("dossier"))
governance_app.command("fria")(_document_command("fria"))
governance_app.command("model-card")(_document_command("model-card"))


@governance_app.command("transparency")
def transparency_command(
    events: Annotated[
        Path,
        typer.Argument(help="Events (CSV/Parquet): system, subject, measure, category, groups."),
    ],
    spec: Annotated[list[Path], typer.Option("--spec", help="A system's spec; repeat per system.")],
    budgets: Annotated[Path, typer.Option(help="JSON budgets file; each spend is added to it.")],
    period: Annotated[str, typer.Option(help="The period the events cover, e.g. 2026-Q1.")],
    out: OutOption,
    epsilon: Annotated[float, typer.Option(help="ε each system spends on this release.")] = 1.0,
    contributions: Annotated[int, typer.Option(help="Most rows per customer per table.")] = 1,
    formats: FormatOption = "json,html",
    at: AtOption = None,
) -> None:
    """Release a period's counts with differential privacy (OpenDP), within each budget."""
    import pandas as pd

    from ethica.governance import (
        PrivacyBudget,
        Spend,
        load_spec,
        release_transparency,
        transparency_document,
    )

    try:
        specs = [load_spec(path) for path in spec]
        frame = pd.read_parquet(events) if events.suffix == ".parquet" else pd.read_csv(events)
        stored = json.loads(budgets.read_text(encoding="utf-8")) if budgets.exists() else {}
        accounts = {
            s.id: PrivacyBudget(
                s.id,
                float(stored.get(s.id, {}).get("epsilon", 0)),
                [
                    Spend(
                        s.id,
                        x["release"],
                        x["epsilon"],
                        datetime.fromisoformat(x["at"]),
                        x["what"],
                        budget=x.get("budget"),
                    )
                    for x in stored.get(s.id, {}).get("spends", [])
                ],
            )
            for s in specs
        }
        moment = _moment(at)
        release = release_transparency(
            frame, specs=specs, budgets=accounts, period=period, epsilon=epsilon,
            released_at=moment, contributions=contributions,
        )  # fmt: skip
    except (EthicaError, OSError, ValueError) as error:
        _fail(error)
    stored.update(
        {
            system: {"epsilon": b.epsilon, "spends": [x.to_dict() for x in b.spends]}
            for system, b in accounts.items()
        }
    )
    budgets.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    for account in accounts.values():
        console.print(
            f"{account.system}: spent ε = {account.spent:.3g} of {account.epsilon:.3g}",
            highlight=False,
        )
    _write(transparency_document(release, specs=specs, generated_at=moment), out, formats)


@governance_app.command("verify")
def verify_command(
    document: Annotated[Path, typer.Argument(help="A document's JSON.")],
    ledger: Annotated[
        Path | None, typer.Option(help="The ledger's entries, one JSON object a line.")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Or the service's database URL: its ledger is read.")
    ] = None,
) -> None:
    """Check a document's digest and every ledger entry it cites against a ledger."""
    from ethica.governance import verify_document

    try:
        if (ledger is None) == (database is None):
            raise EthicaError("give the ledger as --ledger FILE or --database URL (one of them)")
        text = document.read_text(encoding="utf-8")
        if ledger is not None:
            entries = _file_entries(ledger)
        else:
            entries = _database_entries(database, json.loads(text).get("sources", []))
        check = verify_document(text, entries)
    except (EthicaError, OSError, ValueError) as error:
        _fail(error)
    (console if check.ok else errors).print(str(check), highlight=False)
    if not check.ok:
        raise typer.Exit(code=1)


def _file_entries(ledger: Path) -> list[Any]:
    from ethica.ledger import Entry

    lines = ledger.read_text(encoding="utf-8").splitlines()
    return [Entry.from_dict(json.loads(line)) for line in lines if line.strip()]


def _database_entries(database: str | None, sources: list[dict[str, Any]]) -> list[Any]:
    # Only the chains the document cites are read: a system's chain, not the whole ledger.
    from ethica.cli_service import _sessions
    from ethica.service.ledger.store import SqlEntryStore

    chains = sorted({str(source["chain"]) for source in sources})
    with _sessions(database) as (_, sessions), sessions() as session:
        store = SqlEntryStore(session)
        return [entry for chain in chains for entry in store.entries(chain)]


@incident_app.command("open")
def incident_open(
    out: Annotated[Path, typer.Option("--out", help="The incident's JSON file.")],
    system: Annotated[str, typer.Option(help="The system's id.")],
    harm: Annotated[str, typer.Option(help="death, health, critical-infrastructure, ...")],
    description: Annotated[str, typer.Option(help="What happened.")],
    by: Annotated[str, typer.Option(help="Who opens it.")],
    source: Annotated[str, typer.Option(help="alert, concern or manual.")] = "manual",
    source_ref: Annotated[str | None, typer.Option(help="The alert's or concern's id.")] = None,
    aware: AtOption = None,
    incident_id: Annotated[str | None, typer.Option("--id", help="Its id.")] = None,
) -> None:
    """Open a serious incident and start its reporting clock."""
    from ethica.governance import open_incident

    moment = _moment(aware)
    try:
        if source not in ("alert", "concern", "manual"):
            raise EthicaError(f"--source is alert, concern or manual, not {source!r}")
        incident = open_incident(
            id=incident_id or f"{system}-{moment:%Y%m%d%H%M}", system=system, harm=harm,
            source=source, source_ref=source_ref, aware_at=moment, description=description,  # type: ignore[arg-type]
            opened_by=by,
        )  # fmt: skip
    except EthicaError as error:
        _fail(error)
    out.write_text(incident.model_dump_json(indent=2) + "\n", encoding="utf-8")
    console.print(f"opened {incident.id}: {incident.clock(moment)}", highlight=False)


@incident_app.command("status")
def incident_status(
    incident: Annotated[Path, typer.Argument(help="The incident's JSON file.")],
    now: AtOption = None,
) -> None:
    """Show where an incident's reporting clock stands and its report's fields."""
    from ethica.governance import Incident

    try:
        loaded = Incident.model_validate_json(incident.read_text(encoding="utf-8"))
        clock = loaded.clock(_moment(now))
    except (EthicaError, OSError, ValueError) as error:
        _fail(error)
    console.print(f"{loaded.id} ({loaded.system}): {clock}", highlight=False)
    table = Table("Report field", "Value")
    for field, value in loaded.report_fields().items():
        table.add_row(field, "[yellow]to fill in[/yellow]" if value is None else str(value))
    console.print(table)
