"""A LightGBM booster's trees as flat arrays: every split, and every leaf's path by feature.

This is what :mod:`ethica.explain._treeshap` walks; it is read once per booster from
``Booster.dump_model()``, whose numbers round-trip exactly (17 significant digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_IntArray = np.ndarray[Any, np.dtype[np.int64]]
_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

#: LightGBM's ``missing_type`` of a split, as the codes the kernel compares.
MISSING_CODES = {"None": 0, "Zero": 1, "NaN": 2}


@dataclass(frozen=True)
class Forest:
    """Splits and leaf paths of every tree, flattened into arrays.

    Attributes
    ----------
    node_feature, node_threshold, node_missing, node_default_left, node_categorical
        Per split: the column it tests, its threshold, its missing-value rule
        (:data:`MISSING_CODES`), where missing values go, and whether it tests categories.
    category_start, categories
        The categories that go left at split ``n`` are
        ``categories[category_start[n]:category_start[n + 1]]``.
    path_node, path_left
        Every leaf's path from the root: the split, and whether the leaf lies to its left.
    slot_path_end, slot_zero_fraction, slot_output
        One slot per leaf and distinct feature on its path: where its splits end in
        ``path_node`` (they start where the previous slot's end), the share of training rows
        that those splits let through (TreeSHAP's "zero fraction"), and the index of the
        feature's contribution in the output (``class × (features + 1) + feature``).
    leaf_slot_end, leaf_value
        Per leaf: where its slots end, and its output.
    baseline
        Per class: the expected output over the training rows (the ``pred_contrib`` bias).
    features
        Number of model columns.
    max_slots
        The most distinct features on one leaf's path.
    """

    node_feature: _IntArray
    node_threshold: _FloatArray
    node_missing: _IntArray
    node_default_left: _BoolArray
    node_categorical: _BoolArray
    category_start: _IntArray
    categories: _IntArray
    path_node: _IntArray
    path_left: _BoolArray
    slot_path_end: _IntArray
    slot_zero_fraction: _FloatArray
    slot_output: _IntArray
    leaf_slot_end: _IntArray
    leaf_value: _FloatArray
    baseline: _FloatArray
    features: int
    max_slots: int


class _Builder:
    """Collects the arrays of :class:`Forest` while walking the dumped trees."""

    def __init__(self, features: int, classes: int) -> None:
        self.width = features + 1
        self.baseline = [0.0] * classes
        self.node: dict[str, list[Any]] = {
            "feature": [],
            "threshold": [],
            "missing": [],
            "default_left": [],
            "categorical": [],
        }
        self.category_start = [0]
        self.categories: list[int] = []
        self.path_node: list[int] = []
        self.path_left: list[bool] = []
        self.slot_path_end: list[int] = []
        self.slot_zero_fraction: list[float] = []
        self.slot_output: list[int] = []
        self.leaf_slot_end: list[int] = []
        self.leaf_value: list[float] = []
        self.max_slots = 1

    def tree(self, root: dict[str, Any], output: int) -> bool:
        """Add one tree of class ``output``; False for a linear tree or one without counts."""
        if "leaf_value" in root:  # a constant tree: TreeSHAP gives it all to the baseline
            self.baseline[output] += float(root["leaf_value"])
            return True
        total = float(root.get("internal_count", 0))
        if total <= 0:
            return False
        # (node, steps): steps are (split index, feature, went left, share of the parent's rows)
        stack: list[tuple[dict[str, Any], list[tuple[int, int, bool, float]]]] = [(root, [])]
        while stack:
            node, steps = stack.pop()
            if "leaf_value" in node:
                count = float(node.get("leaf_count", 0))
                if count <= 0 or "leaf_coeff" in node:  # a linear tree's leaves are models
                    return False
                self._leaf(float(node["leaf_value"]), steps, output)
                self.baseline[output] += float(node["leaf_value"]) * count / total
                continue
            split = self._split(node)
            parent = float(node.get("internal_count", 0))
            for child, left in ((node["right_child"], False), (node["left_child"], True)):
                count = float(child.get("internal_count", child.get("leaf_count", 0)))
                share = count / parent if parent > 0 else 0.0
                stack.append((child, [*steps, (split, int(node["split_feature"]), left, share)]))
        return True

    def _split(self, node: dict[str, Any]) -> int:
        index = len(self.node["feature"])
        categorical = node["decision_type"] == "=="
        self.node["feature"].append(int(node["split_feature"]))
        self.node["threshold"].append(0.0 if categorical else float(node["threshold"]))
        self.node["missing"].append(MISSING_CODES[node["missing_type"]])
        self.node["default_left"].append(bool(node["default_left"]))
        self.node["categorical"].append(categorical)
        if categorical:
            self.categories += [int(c) for c in str(node["threshold"]).split("||")]
        self.category_start.append(len(self.categories))
        return index

    def _leaf(self, value: float, steps: list[tuple[int, int, bool, float]], output: int) -> None:
        by_feature: dict[int, tuple[list[tuple[int, bool]], float]] = {}
        for split, feature, left, share in steps:
            splits, fraction = by_feature.get(feature, ([], 1.0))
            by_feature[feature] = ([*splits, (split, left)], fraction * share)
        for feature, (splits, fraction) in by_feature.items():
            for split, left in splits:
                self.path_node.append(split)
                self.path_left.append(left)
            self.slot_path_end.append(len(self.path_node))
            self.slot_zero_fraction.append(fraction)
            self.slot_output.append(output * self.width + feature)
        self.leaf_slot_end.append(len(self.slot_output))
        self.leaf_value.append(value)
        self.max_slots = max(self.max_slots, len(by_feature))

    def forest(self) -> Forest:
        def ints(values: list[int]) -> _IntArray:
            return np.asarray(values, dtype=np.int64)

        def floats(values: list[float]) -> _FloatArray:
            return np.asarray(values, dtype=np.float64)

        def flags(values: list[bool]) -> _BoolArray:
            return np.asarray(values, dtype=np.bool_)

        return Forest(
            node_feature=ints(self.node["feature"]),
            node_threshold=floats(self.node["threshold"]),
            node_missing=ints(self.node["missing"]),
            node_default_left=flags(self.node["default_left"]),
            node_categorical=flags(self.node["categorical"]),
            category_start=ints(self.category_start),
            categories=ints(self.categories),
            path_node=ints(self.path_node),
            path_left=flags(self.path_left),
            slot_path_end=ints(self.slot_path_end),
            slot_zero_fraction=floats(self.slot_zero_fraction),
            slot_output=ints(self.slot_output),
            leaf_slot_end=ints(self.leaf_slot_end),
            leaf_value=floats(self.leaf_value),
            baseline=floats(self.baseline),
            features=self.width - 1,
            max_slots=self.max_slots,
        )


def lightgbm_forest(booster: Any) -> Forest | None:
    """Flatten a LightGBM booster's trees, every iteration; None for models TreeSHAP here skips.

    Linear trees, random-forest mode (averaged trees) and trees without training counts are
    left to LightGBM's own ``pred_contrib``.
    """
    model = booster.dump_model(num_iteration=-1)
    if model.get("average_output"):
        return None
    classes = int(model["num_tree_per_iteration"])
    builder = _Builder(int(model["max_feature_idx"]) + 1, classes)
    for tree in model["tree_info"]:
        if not builder.tree(tree["tree_structure"], int(tree["tree_index"]) % classes):
            return None
    return builder.forest()
