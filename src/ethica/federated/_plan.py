"""The plan of a federated fairness audit (``sites.toml``): who takes part, what is counted.

Every site and the coordinator read the same plan, so every site lays its counts out over the
same cells (see :class:`~ethica.federated._layout.Layout`).
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethica.errors import InputError

if TYPE_CHECKING:
    from ethica.fairness import ScoreBins
    from ethica.federated._layout import Layout

#: Settings of the audit a plan may pass on (the rest of :func:`ethica.fairness.audit`).
AUDIT_SETTINGS = ("min_group_size", "confidence", "correction", "materiality", "four_fifths")
#: Models a plan may train: FedAvg of a logistic regression, or XGBoost bagging (trees).
LEARNERS = ("logistic", "xgboost")
#: XGBoost's settings at every site: the same at each, so the trees add up to one model.
XGBOOST_PARAMETERS = {
    "objective": "binary:logistic",
    "eta": 0.3,
    "max_depth": 4,
    "eval_metric": "logloss",
    "nthread": 1,
    "tree_method": "hist",
}
#: Keys of ``[audit]`` that name a score column and how every site bins it.
SCORE_KEYS = ("score", "score_bins", "score_range")

EXAMPLE = """\
sites = 3
superlink = "127.0.0.1:9092"

[audit]
sensitive = ["sex"]
prediction = "approved"
label = "repaid"

[groups]
sex = ["Female", "Male"]
"""


@dataclass(frozen=True)
class Plan:
    """What a federated audit counts, who must contribute, and how the sum is released.

    Attributes
    ----------
    sites
        How many sites must contribute; the audit fails rather than report fewer.
    superlink
        The address (``host:port``) of the SuperLink the sites' SuperNodes connect to.
    sensitive, prediction, label, pos_label
        The columns every site's decision log has, and the favourable outcome.
    score, score_bins, score_range
        A column with each decision's score, counted in ``score_bins`` equal-width bins over
        ``score_range`` (declared, so public) with each bin's score sum: mean scores, ROC AUC
        and calibration of the sum equal a central audit's with the same bins.
    groups
        Each sensitive feature's values, as declared for every site.
    settings
        Settings of the audit computed from the sum (``min_group_size``, ``confidence``, ...).
    epsilon
        When set, the summed counts are released with OpenDP's discrete Laplace noise at this
        epsilon before the audit (each person one row of one site).
    timeout
        Seconds the coordinator waits for the sites before it gives up.
    features, rounds, local_epochs
        Federated training (``[training]``): the model's inputs, FedAvg rounds, and each
        site's local iterations per round.
    learner
        ``"logistic"`` (FedAvg of a logistic regression) or ``"xgboost"`` (Flower's XGBoost
        bagging: each site boosts ``local_epochs`` trees a round).
    max_site_rows, clip
        SecAgg+ of the logistic regression's updates: the most rows a site may weigh its
        update with (the largest weight), and the largest coefficient a site may send
        (``clipping_range``). A site above either refuses rather than have it clipped.
    model
        A linear model's coefficients and intercept: each site decides with it (favourable
        when ``x @ coefficients + intercept > 0``) instead of reading the prediction column.
    """

    sites: int
    superlink: str
    sensitive: tuple[str, ...]
    prediction: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    label: str | None = None
    pos_label: Any = 1
    neg_label: Any = 0
    settings: dict[str, Any] = field(default_factory=dict)
    epsilon: float | None = None
    timeout: float = 300.0
    features: tuple[str, ...] = ()
    rounds: int = 10
    local_epochs: int = 5
    learner: str = "logistic"
    max_site_rows: int = 1_000_000
    clip: float = 100.0
    model: tuple[tuple[float, ...], float] | None = None
    score: str | None = None
    score_bins: int = 20
    score_range: tuple[float, float] = (0.0, 1.0)

    @property
    def layout(self) -> Layout:
        """The cells every site counts."""
        # Loaded on use: a site's ClientApp reads the plan in every stage, counts in one.
        from ethica.federated._layout import Layout

        return Layout(
            groups=self.groups,
            with_label=self.label is not None,
            classes=(self.neg_label, self.pos_label),
            score_bins=self.bins,
        )

    @property
    def bins(self) -> ScoreBins | None:
        """The score bins every site counts in, when the plan names a score column."""
        if self.score is None:
            return None
        from ethica.fairness import ScoreBins

        low, high = self.score_range
        return ScoreBins("equal_width", low, high, self.score_bins)

    @property
    def port(self) -> int:
        """The SuperLink's port (its Fleet, Control and Runtime APIs share it)."""
        return int(self.superlink.rsplit(":", 1)[1])

    def to_json(self) -> str:
        """Write the plan as JSON, as it travels to the Flower apps in the run's configuration."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a plan written by :meth:`to_json`."""
        raw = json.loads(text)
        raw["sensitive"] = tuple(raw["sensitive"])
        raw["groups"] = tuple((name, tuple(values)) for name, values in raw["groups"])
        raw["features"] = tuple(raw["features"])
        raw["score_range"] = tuple(raw["score_range"])
        if raw["model"] is not None:
            raw["model"] = (tuple(raw["model"][0]), float(raw["model"][1]))
        return cls(**raw)


def read_plan(path: Path) -> Plan:
    """Read and check a ``sites.toml``; every mistake is named with how to fix it."""
    if not path.is_file():
        raise InputError(f"no plan at {path}; a plan looks like:\n{EXAMPLE}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path} is not valid TOML: {error}") from None
    return plan_from_dict(raw, where=str(path))


def plan_from_dict(raw: dict[str, Any], *, where: str = "the plan") -> Plan:
    """Check a plan given as a dictionary (the parsed TOML)."""
    known = {"sites", "superlink", "timeout", "audit", "groups", "privacy", "training"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; a plan looks like:\n{EXAMPLE}")
    audit = _table(raw, "audit", where)
    groups = _table(raw, "groups", where)
    sites = raw.get("sites")
    if not isinstance(sites, int) or isinstance(sites, bool) or sites < 3:
        raise InputError(
            f"{where}: 'sites' must be a whole number of at least 3 (got {sites!r}): with two "
            "sites, each would learn the other's counts from the total"
        )
    superlink = str(raw.get("superlink", "127.0.0.1:9092"))
    check_loopback(superlink, where)
    sensitive = audit.get("sensitive")
    if isinstance(sensitive, str):
        sensitive = [s.strip() for s in sensitive.split(",")]
    if not sensitive or not all(isinstance(s, str) and s for s in sensitive):
        raise InputError(f"{where}: [audit] sensitive must list the sensitive columns")
    prediction = audit.get("prediction")
    if not isinstance(prediction, str) or not prediction:
        raise InputError(f"{where}: [audit] prediction must name the column with the decision")
    missing = [s for s in sensitive if s not in groups]
    if missing:
        raise InputError(
            f"{where}: [groups] must declare the values of {missing} (e.g. sex = "
            '["Female", "Male"]): every site counts the same cells'
        )
    declared = []
    for name in sensitive:
        values = groups[name]
        if not isinstance(values, list) or not values:
            raise InputError(f"{where}: [groups] {name} must be a list of values")
        declared.append((name, tuple(dict.fromkeys(str(v) for v in values))))
    roles = {"sensitive", "prediction", "label", "pos_label", "neg_label", *SCORE_KEYS}
    extra = sorted(set(audit) - roles)
    settings = {k: audit[k] for k in extra if k in AUDIT_SETTINGS}
    unknown = sorted(set(extra) - set(AUDIT_SETTINGS))
    if unknown:
        raise InputError(
            f"{where}: [audit] has unknown key(s) {unknown}; it takes sensitive, prediction, "
            f"label, pos_label, neg_label, {', '.join(SCORE_KEYS)} and "
            f"{', '.join(AUDIT_SETTINGS)}"
        )
    privacy = raw.get("privacy", {})
    epsilon = privacy.get("epsilon") if isinstance(privacy, dict) else None
    if epsilon is not None and (not isinstance(epsilon, (int, float)) or epsilon <= 0):
        raise InputError(f"{where}: [privacy] epsilon must be a positive number")
    timeout = raw.get("timeout", 300.0)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise InputError(f"{where}: 'timeout' must be a positive number of seconds")
    pos_label = audit.get("pos_label", 1)
    training = _training(raw.get("training", {}), where)
    return Plan(
        sites=sites,
        superlink=superlink,
        sensitive=tuple(sensitive),
        prediction=prediction,
        groups=tuple(declared),
        label=audit.get("label"),
        pos_label=pos_label,
        neg_label=audit.get("neg_label", 0 if pos_label == 1 else None),
        settings=settings,
        epsilon=None if epsilon is None else float(epsilon),
        timeout=float(timeout),
        **training,
        **_score(audit, where),
    )


def _score(audit: dict[str, Any], where: str) -> dict[str, Any]:
    score = audit.get("score")
    if score is None:
        if set(audit) & {"score_bins", "score_range"}:
            raise InputError(f"{where}: [audit] score_bins and score_range need a score column")
        return {}
    if not isinstance(score, str) or not score:
        raise InputError(f"{where}: [audit] score must name the column with the scores")
    bins = audit.get("score_bins", 20)
    if not isinstance(bins, int) or isinstance(bins, bool) or not 2 <= bins <= 10_000:
        raise InputError(f"{where}: [audit] score_bins must be a whole number from 2 to 10000")
    span = audit.get("score_range", [0.0, 1.0])
    numbers = isinstance(span, list) and len(span) == 2
    if not numbers or not all(isinstance(v, (int, float)) for v in span) or span[0] >= span[1]:
        raise InputError(
            f"{where}: [audit] score_range must be [lowest, highest] score, e.g. [0.0, 1.0]: "
            "every site bins its scores over the same declared range"
        )
    return {"score": score, "score_bins": bins, "score_range": (float(span[0]), float(span[1]))}


def _training(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: [training] must be a table (features, rounds, local_epochs)")
    keys = {"features", "rounds", "local_epochs", "learner", "max_site_rows", "clip"}
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise InputError(f"{where}: [training] has unknown key(s) {unknown}")
    features = raw.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise InputError(f"{where}: [training] features must list the model's input columns")
    rounds, epochs = raw.get("rounds", 10), raw.get("local_epochs", 5)
    most = raw.get("max_site_rows", 1_000_000)
    for name, value in (("rounds", rounds), ("local_epochs", epochs), ("max_site_rows", most)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"{where}: [training] {name} must be a whole number of at least 1")
    learner = raw.get("learner", "logistic")
    if learner not in LEARNERS:
        raise InputError(f"{where}: [training] learner must be one of {list(LEARNERS)}")
    clip = raw.get("clip", 100.0)
    if not isinstance(clip, (int, float)) or isinstance(clip, bool) or clip <= 0:
        raise InputError(f"{where}: [training] clip must be a positive number")
    return {
        "features": tuple(features),
        "rounds": rounds,
        "local_epochs": epochs,
        "learner": learner,
        "max_site_rows": most,
        "clip": float(clip),
    }


def _table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise InputError(f"{where}: the [{name}] table is missing; a plan looks like:\n{EXAMPLE}")
    return value


def check_loopback(address: str, where: str) -> None:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise InputError(f"{where}: 'superlink' must be host:port, e.g. 127.0.0.1:9092")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InputError(
            f"{where}: 'superlink' {address!r} is not on this machine. Sites connect without "
            "TLS here, which is safe on loopback only; run the SuperLink behind TLS (Flower's "
            "--ssl-* options) for sites on other machines"
        )
