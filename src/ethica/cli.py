"""The ``ethica`` command line: audits, the demo, and (later) the service's operations."""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ethica._cli_plain import PlainOptionsCommand, PlainOptionsGroup
from ethica._version import __version__
from ethica.cli_audit import as_options, collector_paused, live_audit, query_ahead
from ethica.cli_candidates import candidates_app
from ethica.cli_federated import federated_app
from ethica.cli_governance import governance_app
from ethica.cli_ledger import ledger_app
from ethica.cli_mitigation import mitigate
from ethica.cli_monitoring import monitor_app
from ethica.cli_privacy import synthesize
from ethica.cli_service import (
    retention_app,
    serve,
    subjects_app,
    systems_app,
    users_app,
)
from ethica.errors import EthicaError

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    name="ethica",
    cls=PlainOptionsGroup,
    help="Assess disparities in AI decisions, explain them, and keep them on record.",
    no_args_is_help=True,
    add_completion=False,
    # Rich help formatting costs a tenth of a second on every --help and parses docstrings.
    rich_markup_mode=None,
)
console = Console()
errors = Console(stderr=True)
app.add_typer(systems_app, name="systems")
app.add_typer(ledger_app, name="ledger")
app.add_typer(users_app, name="users")
app.add_typer(retention_app, name="retention")
app.add_typer(subjects_app, name="subjects")
app.add_typer(governance_app, name="governance")
app.add_typer(monitor_app, name="monitor")
app.add_typer(candidates_app, name="candidates")
app.add_typer(federated_app, name="federated")
app.command()(serve)
app.command(cls=PlainOptionsCommand)(mitigate)
app.command(cls=PlainOptionsCommand)(synthesize)


@app.command()
def version() -> None:
    """Print ethica's version."""
    console.print(__version__)


@app.command(cls=PlainOptionsCommand)
def audit(
    source: Annotated[
        str | None, typer.Argument(help="A Parquet/CSV file, or a table name (SQL engines).")
    ] = None,
    sensitive: Annotated[
        str | None,
        typer.Option("--sensitive", "-s", help="Sensitive feature columns, e.g. sex,race."),
    ] = None,
    prediction: Annotated[str | None, typer.Option(help="Column with the decision.")] = None,
    label: Annotated[str | None, typer.Option(help="Column with the true outcome.")] = None,
    score: Annotated[str | None, typer.Option(help="Column with the model's score.")] = None,
    kind: Annotated[
        str, typer.Option(help="binary, multiclass, regression or ranking.")
    ] = "binary",
    pos_label: Annotated[
        str | None, typer.Option(help="The favourable outcome, when labels are not 0/1.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="memory, duckdb, spark, or a postgresql:// URL.")
    ] = "duckdb",
    system: Annotated[
        str | None, typer.Option(help="Audit this registered system's live decision log.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="With --system: decisions since 30d, 12h or an ISO date.")
    ] = None,
    outcomes: Annotated[
        bool, typer.Option(help="With --system: only decisions with recorded true outcomes.")
    ] = False,
    database: Annotated[
        str | None, typer.Option(help="With --system: the service's database URL.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Reference group, e.g. sex=Male,race=White.")
    ] = None,
    min_group_size: Annotated[int, typer.Option(help="Smaller groups are not assessed.")] = 30,
    confidence: Annotated[float, typer.Option(help="Confidence of intervals.")] = 0.95,
    correction: Annotated[str, typer.Option(help="holm, bh or none.")] = "holm",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap replicates (0 = none).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    federated: Annotated[
        Path | None,
        typer.Option(help="Coordinate a federated audit of the sites in this sites.toml."),
    ] = None,
    transcript: Annotated[
        Path | None,
        typer.Option(help="With --federated: write every message the coordinator received."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
) -> None:
    """Audit decisions in a file, a table or a system's live log for disparities between groups."""
    # Every argument is checked before pandas and the engines load (a second on a cold start).
    if federated is not None:
        if source is not None or system is not None:
            _fail("--federated takes the sites and columns from its plan; pass no FILE or --system")
        _federated_audit(federated, transcript, report, as_json)
        return
    if transcript is not None:
        _fail("--transcript goes with --federated")
    if (source is None) == (system is None):
        _fail("audit a FILE_OR_TABLE, or a registered system's live decisions with --system")
    if system is None and (sensitive is None or prediction is None):
        _fail("auditing a file or table needs --sensitive and --prediction")
    decision_kind = _choice(kind, ("binary", "multiclass", "regression", "ranking"), "kind")
    options: dict[str, Any] = {
        "reference": _pairs(reference),
        "min_group_size": min_group_size,
        "confidence": confidence,
        "correction": _choice(correction, ("holm", "bh", "none"), "correction"),
        "bootstrap": bootstrap,
        "seed": seed,
    }
    # The audit's objects (pandas' modules first) live until the command ends: the cyclic
    # collector's passes over them find nothing to free, yet cost a tenth of the CPU of an
    # audit of 10^6 rows.
    with collector_paused():
        ahead = query_ahead(source, engine, decision_kind, sensitive, label, prediction, score)
        from ethica.fairness import audit as run_audit

        try:
            with _progress(quiet=as_json) as progress:
                where = f"system {system}" if system else f"{source} on {engine.split('://')[0]}"
                progress.add_task(f"Auditing {where}", total=None)
                if system is not None:
                    result = live_audit(system, since, outcomes, database, sensitive, options)
                else:
                    result = run_audit(
                        source,
                        sensitive_features=sensitive,
                        label=label,
                        prediction=prediction,
                        score=score,
                        kind=decision_kind,
                        pos_label=pos_label,
                        **ahead,
                        **options,
                    )
                if report is not None:
                    result.to_html(report)
        except EthicaError as error:
            _fail(as_options(str(error)))
        if as_json:
            sys.stdout.write(result.to_json() + "\n")
            return
        _print_audit(result)
        if report is not None:
            console.print(f"\nReport written to [bold]{report}[/bold]")


def _federated_audit(
    plan: Path, transcript: Path | None, report: Path | None, as_json: bool
) -> None:
    from ethica.federated import federated_audit

    try:
        with _progress(quiet=as_json) as progress:
            progress.add_task(f"Waiting for the sites of {plan} and summing", total=None)
            result = federated_audit(plan, transcript=transcript)
            if report is not None:
                result.audit.to_html(report)
    except EthicaError as error:
        _fail(str(error))
    if as_json:
        sys.stdout.write(result.audit.to_json() + "\n")
        return
    released = (
        "exact" if result.epsilon is None else f"with OpenDP noise at epsilon {result.epsilon:g}"
    )
    console.print(f"Counts of {result.sites} sites summed by SecAgg+ ({released})")
    _print_audit(result.audit)
    if report is not None:
        console.print(f"\nReport written to [bold]{report}[/bold]")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("out/demo"),
    customers: Annotated[
        int, typer.Option(help="Customers in the scenario (a fifth, at most 1,000, get decisions).")
    ] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the scenario.")] = 0,
    history_days: Annotated[
        int,
        typer.Option(
            min=0, help="Days of credit-limit history replayed and monitored before today."
        ),
    ] = 120,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server on the demo database.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address the server listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the server listens on.")] = 8000,
) -> None:
    """Audit the bank's credit model, run its three AI systems through the gateway, serve them."""
    from ethica.demo import build_bank, generate_customers, run_demo, serve_bank

    database = out / "ethica.db"
    try:
        with _progress(quiet=False) as progress:
            progress.add_task(
                "Generating customers, training the credit model, auditing", total=None
            )
            result = run_demo(out, n=customers, seed=seed)
        _print_audit(result.audit)
        console.print(f"\nReport: [bold]{result.report_html.resolve()}[/bold]")
        console.print(f"JSON:   [bold]{result.audit_json.resolve()}[/bold]\n")
        with _progress(quiet=False) as progress:
            progress.add_task(
                "Registering the bank's three AI systems, running decisions through the gateway",
                total=None,
            )
            bank = build_bank(
                database,
                generate_customers(customers, seed=seed),
                history_days=history_days,
                seed=seed,
            )
    except EthicaError as error:
        _fail(str(error))
    _print_bank(bank, f"http://{host}:{port}")
    if serve_after:
        console.print(f"\nServing on http://{host}:{port} (Ctrl+C stops it)")
        serve_bank(database, host=host, port=port)


def _print_bank(bank: Any, base: str) -> None:
    from ethica.demo import STAFF

    console.rule("The demo bank on the service")
    made = ", ".join(f"{system} {count:,}" for system, count in bank.decisions.items())
    console.print(f"Database: {bank.database_url}")
    console.print(f"Decisions through the gateway: {made}; {bank.held:,} held for human review")
    changes = ", ".join(f"{count:,} {what}" for what, count in bank.consent_changes.items())
    console.print(f"Customers' choices before their decisions: {changes}")
    console.print(f"True outcomes recorded: {bank.outcomes:,}")
    if bank.history is not None:
        history = bank.history
        console.print(
            f"Credit-limit history from {history.first_day.date().isoformat()}: "
            f"{history.decisions:,} decisions replayed, {history.outcomes:,} outcomes arrived "
            f"60 days later, {history.alerts} monitoring alert(s) raised"
        )
    console.print(f"Appeals filed by customers: {bank.appeals:,}")
    steps = ", ".join(f"{count} {kind}" for kind, count in bank.reviews.items())
    console.print(f"Reviews by the demo reviewers: {steps}")
    seeded = ", ".join(f"{system} {count}" for system, count in bank.seeded.items())
    console.print(
        f"Seeded review cases with known answers: {seeded}; {bank.seeded_decided} decided by "
        "the demo reviewers (support-routing is reviewed blind-first)"
    )
    console.rule("AI Act classification (recorded in the ledger) and documents")
    for sentence in bank.classifications.values():
        console.print(sentence, highlight=False)
    if bank.documents:
        folder = bank.documents[0].parent.resolve()
        console.print(f"{len(bank.documents)} documents (JSON and HTML) in {folder}")
    console.rule("Open these (demo logins work in development only)")
    links = [
        ("Customer portal", f"{base}/portal/enter?token={bank.portal_token}"),
        ("", f"(customer {bank.portal_subject}, whose credit request was declined; or sign in"),
        ("", f"at {base}/login with that customer id)"),
    ]
    for login in STAFF:
        page = "/console" if login.role == "reviewer" else "/dashboard"
        name = "Reviewer console" if login.role == "reviewer" else f"Dashboard ({login.role})"
        links.append((name, f"{base}{page}  sign in as {login.email} / {login.password}"))
    links.append(("Governance", f"{base}/dashboard/governance  (as the officer)"))
    if bank.candidate:
        shadow = f"{base}/dashboard/systems/credit-limit/candidates"
        links.append(("Mitigation", f"{shadow}  (a candidate in shadow; as the officer)"))
    links.append(("API docs", f"{base}/docs"))
    for name, text in links:
        # soft_wrap: a URL must stay on one line to be copied or clicked
        console.print(f"{name:<20} {text}", soft_wrap=True, highlight=False, markup=False)


def _print_audit(result: Any) -> None:
    table = result.table
    console.print(
        f"[bold]Audit[/bold] of {table.rows:,} {table.kind} decisions by "
        f"{', '.join(table.sensitive_features)}"
    )
    console.rule("What we found")
    if not result.findings:
        console.print("No material gap in the headline metrics.")
    for finding in result.findings[:12]:
        style = {"material and significant": "red", "material, not significant": "yellow"}.get(
            finding.severity, "dim"
        )
        console.print(f"[{style}]•[/{style}] {finding.text}")
    if len(result.findings) > 12:
        console.print(f"… and {len(result.findings) - 12} more in the report.")
    shown = result.criteria
    if not shown.empty and (~shown["grouping"].str.contains("×")).any():
        shown = shown[~shown["grouping"].str.contains("×")]  # intersections: in the report
    if not shown.empty:
        from rich.table import Table

        criteria = Table(title="Fairness criteria (between groups; intersections in the report)")
        for column in ("grouping", "criterion", "difference", "ratio"):
            criteria.add_column(
                column, justify="right" if column in ("difference", "ratio") else "left"
            )
        for row in shown.itertuples(index=False):
            criteria.add_row(
                row.grouping, row.criterion, f"{row.difference:.3f}", f"{row.ratio:.3f}"
            )
        console.print(criteria)


def _progress(*, quiet: bool) -> Progress | _Quiet:
    """Show a spinner on stderr while the command works; if quiet, nothing (nor load rich's)."""
    if quiet:
        return _Quiet()
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


class _Quiet:
    """What :func:`_progress` gives when it shows nothing."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> int:
        """Show nothing."""
        return 0


def _pairs(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = {}
    for part in text.split(","):
        if "=" not in part:
            _fail(f"--reference takes feature=value pairs, e.g. sex=Male,race=White; got {part!r}")
        key, value = part.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


def _choice(value: str, allowed: tuple[str, ...], name: str) -> Any:
    if value not in allowed:
        _fail(f"--{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _fail(message: str) -> Any:
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code=2)


def main() -> None:  # pragma: no cover - console entry point
    """Run the command line."""
    app()


def script() -> NoReturn:
    """Run :func:`main` as the ``ethica`` console script, then leave without tearing Python down.

    Once the answer is written, unloading pandas, pyarrow and DuckDB module by module costs
    a fifth of a second of CPU on every run; the exit handlers still run and the output is
    flushed, and an error that escapes takes the ordinary way out (with its traceback).
    """
    code = 0
    try:
        main()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            code = done.code or 0
        else:
            print(done.code, file=sys.stderr)
            code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # the reader went away (``| head``): as Python itself would say
        code = code or 120
    os._exit(code)
