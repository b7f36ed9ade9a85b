"""One settings tree for the service, read from ``ETHICA__SECTION__FIELD`` environment variables.

Outside development the service refuses to start while any secret still has its development
default or carries fewer than 256 bits (:mod:`ethica.service.secret_strength`): a deployment must
set its own. Ledger keys must be base64 of 32 bytes in every environment.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ethica.privacy._synthesize import DEFAULT_MAX_EPSILON
from ethica.service.secret_strength import (
    key_shape_problem,
    key_strength_problem,
    text_secret_problem,
)

# Development-only secrets: public, so that `make demo` needs no setup; refused elsewhere.
DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
DEV_MASTER_KEY = "ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYiE="  # 32 bytes, base64
DEV_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zaWduaW5nLWtleSEhISE="  # 32-byte Ed25519 seed


class AppSettings(BaseModel):
    """The application itself."""

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="development allows the built-in secrets; others refuse them.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description="Signs session and customer-link tokens; at least 256 bits of entropy "
        "outside development (e.g. 43 characters of secrets.token_urlsafe(32)).",
    )
    max_request_bytes: int = Field(
        default=1_000_000, gt=0, description="Requests with a larger body are refused with 413."
    )
    session_minutes: int = Field(
        default=480, gt=0, description="Lifetime of a staff session token."
    )
    customer_link_minutes: int = Field(default=60, gt=0, description="Lifetime of a customer link.")
    demo_logins: bool = Field(
        default=False,
        description="Let anyone sign in to the portal as any customer by id, from the sign-in "
        "page (the demo's customer login); refused outside development.",
    )


class DatabaseSettings(BaseModel):
    """Where the service keeps its state and its ledger."""

    url: str = Field(
        default="sqlite:///ethica.db",
        description="SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")


class LedgerSettings(BaseModel):
    """Keys of the tamper-evident ledger."""

    master_key: SecretStr = Field(
        default=SecretStr(DEV_MASTER_KEY),
        description="Base64 of 32 bytes; wraps every subject's data key.",
    )
    signing_key: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_KEY),
        description="Base64 of a 32-byte Ed25519 seed; signs the chains' tree heads.",
    )
    checkpoint_every: int = Field(
        default=1000, gt=0, description="Sign a chain's tree head after this many new entries."
    )
    head_every_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Also sign the head of every chain with new entries this often (0: only by "
        "count), so that no entry stays unsigned longer.",
    )
    witness_path: str | None = Field(
        default=None,
        description="File that keeps every signed head outside the database (JSON lines, "
        "append-only); by default beside a SQLite database file, none for PostgreSQL.",
    )

    key_file: str | None = Field(
        default=None,
        description="File of the key-encryption keys that wrap subjects' data keys, one per "
        "erasure epoch, kept outside the database so that an erasure can destroy every copy "
        "of an erased subject's key (back it up with the master key); by default beside a "
        "SQLite database file. Without one (PostgreSQL), keys are wrapped by the master key "
        "only and copies in pg_wal, dead tuples and backups stay openable with it.",
    )

    erasure_journal: str | None = Field(
        default=None,
        description="File where every completed erasure is recorded outside the database (its "
        "erased: pseudonym, time and ledger entry; no id), so that after restoring an older "
        "backup `ethica subjects replay-erasures` erases those subjects again and `ethica "
        "serve` refuses to start until it has; keep it where a restore does not roll it back. "
        "By default beside the key file. Without one (PostgreSQL without a key file), a "
        "restored backup brings erased subjects back unnoticed.",
    )

    @property
    def master_key_bytes(self) -> bytes:
        """The 32 bytes of the master key (the setting is their base64)."""
        return base64.b64decode(self.master_key.get_secret_value())

    @property
    def signing_key_bytes(self) -> bytes:
        """The 32-byte Ed25519 seed of the signing key (the setting is its base64)."""
        return base64.b64decode(self.signing_key.get_secret_value())


class GatewaySettings(BaseModel):
    """The decision path."""

    group_commit_max: int = Field(
        default=256, gt=0, description="Most decisions written in one transaction (group commit)."
    )
    group_commit_wait_ms: float = Field(
        default=1.0,
        ge=0,
        description="How long the writer waits to fill a group before committing.",
    )
    arrival_wait_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="While decisions keep arriving, how long the decision thread may wait for "
        "more before deciding a batch, as a share of the time its recent batches took (0: never "
        "waits). Larger batches share their commit and their per-batch work.",
    )
    arrival_pause_ms: float = Field(
        default=1.0,
        gt=0,
        description="The decision thread's pause between looks for more arrivals: a pause that "
        "brings none ends the wait.",
    )
    retention_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often the service applies each system's retention period (0: never; "
        "`ethica retention run` does it on demand).",
    )
    monitoring_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often the service counts each system's new whole days and raises the "
        "alerts its monitoring rules find (0: never; `ethica monitor run` does it on demand).",
    )


class NotificationSettings(BaseModel):
    """Telling customers about their cases: the portal always does; a webhook tells the business."""

    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        max_length=2000,
        description="Where each customer notification is POSTed (JSON, signed), so the "
        "business's own channels can tell the customer; none: the portal only.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="The shared secret of the webhook's HMAC-SHA256 signature "
        "(Ethica-Signature header); required with a webhook URL.",
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Attempts per notification before it is given up."
    )
    webhook_backoff_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The wait before the first retry; each further retry waits twice as long.",
    )
    webhook_interval_seconds: float = Field(
        default=5.0, ge=0, description="How often due notifications are sent (0: never)."
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long one delivery waits for the endpoint's answer."
    )

    @model_validator(mode="after")
    def _secret_with_url(self) -> NotificationSettings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "a webhook URL needs a signing secret: set ETHICA__NOTIFICATIONS__WEBHOOK_SECRET"
            )
        return self


#: Each system's total ε over its life, unless configured (or the ceiling is lower).
DEFAULT_TRANSPARENCY_BUDGET = 4.0


class PrivacySettings(BaseModel):
    """Differential privacy: the ceiling on privacy loss, and each system's transparency budget."""

    max_epsilon: float = Field(
        default=DEFAULT_MAX_EPSILON,
        gt=0,
        allow_inf_nan=False,  # an infinite ceiling is none
        description="The most privacy loss (ε) a release may spend (a synthetic log, a system's "
        "transparency reports in total): above it people are protected too little. Lower it "
        "freely (a stricter policy); raise it only after a documented review.",
    )
    transparency_budget: float = Field(
        default=DEFAULT_TRANSPARENCY_BUDGET,
        gt=0,
        description="The total ε each system's releases (transparency reports, synthetic "
        "decision logs) may spend over its life: the ε of every release adds up (each spend a "
        "ledger entry), and a release past the budget is refused. At most max_epsilon; unset, "
        f"{DEFAULT_TRANSPARENCY_BUDGET:g}, or max_epsilon when that is lower.",
    )

    @model_validator(mode="after")
    def _budget_within_ceiling(self) -> PrivacySettings:
        if self.transparency_budget <= self.max_epsilon:
            return self
        if "transparency_budget" not in self.model_fields_set:
            # A ceiling below the default budget is a stricter policy, not a mistake: the
            # budget nobody set follows it down.
            self.transparency_budget = self.max_epsilon
            return self
        raise ValueError(
            f"the transparency budget ε = {self.transparency_budget:g} "
            f"(ETHICA__PRIVACY__TRANSPARENCY_BUDGET) is above the ceiling ε = "
            f"{self.max_epsilon:g} (ETHICA__PRIVACY__MAX_EPSILON): reports within it would "
            "protect people too little. Lower the budget, or raise the ceiling after a "
            "documented review."
        )


#: Where every setting is read: ``ETHICA__SECTION__FIELD`` environment variables.
_FROM_ENVIRONMENT = SettingsConfigDict(
    env_prefix="ETHICA__", env_nested_delimiter="__", extra="ignore"
)


class Settings(BaseSettings):
    """Every setting of the service."""

    model_config = _FROM_ENVIRONMENT

    app: AppSettings = Field(default_factory=AppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @model_validator(mode="after")
    def _strong_secrets_outside_development(self) -> Settings:
        problems = [
            problem
            for name, key in _ledger_keys(self).items()
            if (problem := key_shape_problem(name, key)) is not None
        ]
        if self.app.environment != "development":
            problems = _weak_secrets(self) + problems
        if problems:
            raise ValueError(
                f"refusing to start in {self.app.environment} (only development allows weak "
                "or built-in secrets): " + "; ".join(problems)
            )
        return self


class _PrivacyOnly(BaseSettings):
    """The privacy section of :class:`Settings`, read from the same variables by itself."""

    model_config = _FROM_ENVIRONMENT

    privacy: PrivacySettings = Field(default_factory=PrivacySettings)


def privacy_settings() -> PrivacySettings:
    """The privacy section of the environment's settings, without the rest.

    A synthetic release of a file needs the ceiling on ε, not the service's database or
    secrets, so these are neither read nor checked.
    """
    return _PrivacyOnly().privacy


def _ledger_keys(settings: Settings) -> dict[str, str]:
    return {
        "ETHICA__LEDGER__MASTER_KEY": settings.ledger.master_key.get_secret_value(),
        "ETHICA__LEDGER__SIGNING_KEY": settings.ledger.signing_key.get_secret_value(),
    }


def _weak_secrets(settings: Settings) -> list[str]:
    """What is wrong with the secrets of a deployment outside development."""
    problems = []
    if settings.app.demo_logins:
        problems.append("demo logins are on; unset ETHICA__APP__DEMO_LOGINS")
    secrets = {"ETHICA__APP__SECRET_KEY": settings.app.secret_key.get_secret_value()}
    secrets.update(_ledger_keys(settings))
    for name, value in secrets.items():
        if value in (DEV_SECRET_KEY, DEV_MASTER_KEY, DEV_SIGNING_KEY):
            problems.append(f"{name} is the development default; set your own")
        elif name == "ETHICA__APP__SECRET_KEY":
            problems.extend(filter(None, [text_secret_problem(name, value)]))
        else:
            problems.extend(filter(None, [key_strength_problem(name, value)]))
    return problems


def settings_problem(error: ValidationError) -> str:
    """One line saying what is wrong with the environment's settings, naming the variables."""
    lines = []
    for detail in error.errors():
        message = str(detail["msg"]).removeprefix("Value error, ")
        if detail["loc"]:
            variable = "ETHICA__" + "__".join(str(part) for part in detail["loc"]).upper()
            message = f"{variable}: {message}"
        lines.append(message)
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
