"""The gateway inside an application's own process, on its own database (SQLite by default)."""

from __future__ import annotations

from typing import Any

from ethica._sdk import Decides
from ethica.service.db import unit_of_work
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.settings import Settings
from ethica.service.state import build_state


class EmbeddedGateway(Decides[DecisionRead]):
    """Run governed decisions in-process: ``ethica.Gateway("sqlite:///decisions.db")``.

    The same path as the service's REST API (consent, minimization, scoring, explanation,
    oversight, ledger), without HTTP.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        seed: int | None = None,
    ) -> None:
        settings = settings or Settings()
        if database_url is not None:
            settings = settings.model_copy(
                update={"database": settings.database.model_copy(update={"url": database_url})}
            )
        self.state = build_state(settings, migrate=True, seed=seed)
        self.settings = settings
        self.engine = self.state.engine
        self.sessions = self.state.sessions
        self.gateway = self.state.gateway

    def __enter__(self) -> EmbeddedGateway:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish pending writes and close the database."""
        self.state.close()

    def register(
        self,
        spec: Any,
        *,
        model: Any = None,
        version: str | None = None,
        format: str = "skops",
        training: tuple[Any, Any] | None = None,
    ) -> None:
        """Register a system from a spec (a SystemSpec, a mapping or a YAML path), with a model.

        ``training`` is ``(frame, outcomes)`` of the model's training data: explanations then
        compare a customer with typical values and keep counterfactuals in the observed range.
        """
        from pathlib import Path

        from ethica.governance import SystemSpec, load_spec, parse_spec
        from ethica.scoring import dump_model
        from ethica.service.systems import service

        if isinstance(spec, (str, Path)):
            spec = load_spec(spec)
        elif not isinstance(spec, SystemSpec):
            spec = parse_spec(dict(spec))
        with unit_of_work(self.sessions) as session:
            service.apply_spec(session, spec=spec)
            if model is not None:
                summary = None
                if training is not None:
                    from ethica.explain import TrainingSummary

                    frame, outcomes = training
                    summary = TrainingSummary.from_training(frame, outcomes, spec=spec).to_dict()
                service.add_model_version(
                    session,
                    system_id=spec.id,
                    version=version or "1",
                    format=format,  # type: ignore[arg-type]
                    content=dump_model(model, format),  # type: ignore[arg-type]
                    training_summary=summary,
                )
        self.gateway.forget_system(spec.id)

    def _decide(self, system_id: str, body: dict[str, Any]) -> DecisionRead:
        return self.gateway.decide(system_id, DecisionCreate(**body))
