"""Bootstrap audit time against groups x replicates: ethica's count-table bootstrap and fairlearn's.

ethica redraws each group's confusion counts (a multinomial per group, all groups and replicates
in one draw) and should grow linearly in groups x replicates; fairlearn's ``MetricFrame`` with
``n_boot`` resamples the rows and recomputes every group, so it runs only on the smaller cases
(``--peer-up-to``). Times are CPU seconds of this process (``time.process_time``) next to wall
seconds: the machine may be shared, and CPU time is the steadier of the two.

    .venv/bin/python bench/bootstrap_scale.py
    .venv/bin/python bench/bootstrap_scale.py --groups 200,2000 --replicates 1000 --size 100
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from ethica.fairness import audit, count_table
from ethica.fairness._count_table import CountTable


def decisions(groups: int, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``size`` labelled decisions in each of ``groups`` groups, with rates varying by group."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(groups), size)
    tpr, fpr = rng.uniform(0.5, 0.9, groups), rng.uniform(0.05, 0.4, groups)
    label = rng.random(group.size) < 0.4
    prediction = rng.random(group.size) < np.where(label, tpr[group], fpr[group])
    return {
        "group": np.char.zfill(group.astype(str), 5),
        "label": label.astype(np.int64),
        "prediction": prediction.astype(np.int64),
    }


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """CPU and wall seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def ours(table: CountTable, replicates: int) -> None:
    """Audit with the bootstrap (every interval, gap and test of the audit included)."""
    audit(table, sensitive_features=["group"], bootstrap=replicates, min_group_size=0)


def fairlearn_run(data: dict[str, np.ndarray], replicates: int) -> None:
    """fairlearn's bootstrap of selection rate and true positive rate per group."""
    from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

    MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
        y_true=data["label"],
        y_pred=data["prediction"],
        sensitive_features=data["group"],
        n_boot=replicates,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="20,200,2000")
    parser.add_argument("--replicates", default="100,1000")
    parser.add_argument("--size", type=int, default=100, help="rows per group")
    parser.add_argument(
        "--peer-up-to", type=int, default=2_000, help="run fairlearn up to groups x replicates"
    )
    args = parser.parse_args()
    header = (
        f"{'groups':>7} {'replicates':>10} {'rows':>9} {'ours cpu s':>11} {'ours wall s':>12} "
        f"{'ours per 1e6 g*r':>17} {'fairlearn cpu s':>16} {'fairlearn wall s':>17}"
    )
    print(header)
    print("-" * len(header))
    for groups in (int(g) for g in args.groups.split(",")):
        data = decisions(groups, args.size)
        table = count_table(
            sensitive_features={"group": data["group"]},
            label=data["label"],
            prediction=data["prediction"],
        )
        for replicates in (int(r) for r in args.replicates.split(",")):
            cpu, wall = timed(lambda t=table, r=replicates: ours(t, r))  # type: ignore[misc]
            unit = cpu / (groups * replicates) * 1e6
            peer = "–", "–"
            if groups * replicates <= args.peer_up_to:
                p_cpu, p_wall = timed(lambda d=data, r=replicates: fairlearn_run(d, r))  # type: ignore[misc]
                peer = f"{p_cpu:.2f}", f"{p_wall:.2f}"
            print(
                f"{groups:>7,} {replicates:>10,} {groups * args.size:>9,} {cpu:>11.2f} "
                f"{wall:>12.2f} {unit:>17.2f} {peer[0]:>16} {peer[1]:>17}"
            )


if __name__ == "__main__":
    main()
