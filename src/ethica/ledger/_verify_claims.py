"""What checkpoints, anchors and a witness vouch for, checked against the verified chains."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ethica.ledger._head import SignedHead
from ethica.ledger._verify_chain import ChainResult
from ethica.ledger._verify_report import Problem

Claim = tuple[str, int, str, str]  # chain, sequence, hash, who vouches


def anchor_claims(results: Mapping[str, ChainResult]) -> list[Claim]:
    """Return the newest head each anchor entry vouches for, per anchored chain."""
    newest: dict[str, Claim] = {}
    for root, result in results.items():
        for sequence, public in result.anchors:
            heads = public.get("heads") if isinstance(public, dict) else None
            if not isinstance(heads, dict):
                continue
            for chain, head in heads.items():
                if not _is_head(head) or chain == root:
                    continue
                claim = (chain, head["sequence"], head["hash"], f"the anchor {root}#{sequence}")
                if chain not in newest or claim[1] >= newest[chain][1]:
                    newest[chain] = claim
    return list(newest.values())


def check_claims(
    claims: list[Claim],
    results: Mapping[str, ChainResult],
    hash_at: Callable[[str, int], str | None],
    given: set[str] | None,
) -> list[Problem]:
    """Check that each chain reaches what a checkpoint or anchor vouches for."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for chain, sequence, head_hash, source in claims:
        anchored = source.startswith("the anchor")
        result = results.get(chain)
        if chain in reported or (anchored and (result is None or result.checked == 0)):
            continue
        if result is None or (given is not None and chain not in given):
            problems.append(
                Problem(
                    "truncated",
                    chain,
                    0,
                    f"no entry of the chain was given, but {source} vouches for sequence "
                    f"{sequence}",
                )
            )
            reported.add(chain)
            continue
        if sequence < result.resumed_from:
            continue  # vouched for entries that the resumed verification took as verified
        end = result.resumed_from + result.verified
        if sequence < end:
            actual = hash_at(chain, sequence)
            if actual != head_hash:
                problems.append(
                    Problem(
                        "truncated",
                        chain,
                        sequence,
                        f"{source} vouches for hash {head_hash[:12]}… at sequence {sequence}, "
                        f"the chain has {(actual or '')[:12]}…: it was cut back and rewritten "
                        "after being vouched for",
                    )
                )
                reported.add(chain)
            continue
        if result.problem is not None:
            continue  # the chain already breaks before this sequence; that is reported
        problems.append(
            Problem(
                "truncated",
                chain,
                end,
                f"the chain ends at sequence {end - 1}, but {source} vouches for sequence "
                f"{sequence}: entries were removed from its end",
            )
        )
        reported.add(chain)
    return problems


def compare_with_witness(stored: list[SignedHead], witnessed: list[SignedHead]) -> list[Problem]:
    """Name heads the witness kept that the ledger lacks, and the reverse where it matters."""
    key = head_key
    problems: list[Problem] = []
    stored_keys = {key(h) for h in stored}
    witnessed_keys = {key(h) for h in witnessed}
    for head in witnessed:
        if key(head) not in stored_keys:
            problems.append(
                Problem(
                    "deleted",
                    head.chain,
                    head.size,
                    f"{head.describe()}, kept by the witness, is missing from the ledger's own "
                    "heads: head rows were deleted",
                )
            )
    newest_witnessed: dict[str, SignedHead] = {}
    for head in witnessed:
        if (
            head.chain not in newest_witnessed
            or head.signed_at > newest_witnessed[head.chain].signed_at
        ):
            newest_witnessed[head.chain] = head
    for head in stored:
        newest = newest_witnessed.get(head.chain)
        if key(head) in witnessed_keys or newest is None or head.signed_at > newest.signed_at:
            continue  # signed after the witness's newest head: it may not have reached it yet
        problems.append(
            Problem(
                "deleted",
                head.chain,
                head.size,
                f"{head.describe()} is missing from the witness, which kept heads signed after "
                "it: lines were removed from the witness",
            )
        )
    return problems


def head_key(head: SignedHead) -> tuple[str, int, str, bytes]:
    return (head.chain, head.size, head.root, head.signature)


def _is_head(head: Any) -> bool:
    return (
        isinstance(head, dict)
        and isinstance(head.get("sequence"), int)
        and isinstance(head.get("hash"), str)
    )
