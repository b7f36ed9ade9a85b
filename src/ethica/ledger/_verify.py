"""Verify chains of entries: name the first broken entry of each chain and what is wrong.

Every entry is hashed from the text its store keeps (:data:`StoredEntry`), without decoding
and re-encoding it, and fed to a Merkle :class:`Frontier`; at each signed head's size the tree
hash must equal the signed root. So one streaming pass, ``log2(n)`` hashes of memory, checks the
hash links, every signed head, every checkpoint and anchor. Verification can resume from the
newest signed head it verified (:class:`ChainProgress`), reading only the entries after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._canonical import rfc3339
from ethica.ledger._checkpoint import Checkpoint, verify_checkpoint
from ethica.ledger._entry import (
    Entry,
    StoredEntry,
    entry_record,
)
from ethica.ledger._head import SignedHead, verify_head
from ethica.ledger._store import RecordStore
from ethica.ledger._verify_chain import ChainResult, check_chain, stored_hash
from ethica.ledger._verify_claims import (
    Claim,
    anchor_claims,
    check_claims,
    compare_with_witness,
    head_key,
)
from ethica.ledger._verify_halves import HalfTask, ParallelReading, check_chain_in_halves
from ethica.ledger._verify_report import ChainProgress, Problem, ProblemKind, VerificationReport

__all__ = [
    "ChainProgress",
    "HalfTask",
    "ParallelReading",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "stored_hash",
    "verify",
    "verify_store",
]


def verify(
    entries: Iterable[Entry],
    *,
    checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    heads: Iterable[SignedHead] = (),
    witnessed: Iterable[SignedHead] | None = None,
) -> VerificationReport:
    """Check that ``entries`` form unbroken hash chains that every signed head vouches for.

    Parameters
    ----------
    entries : iterable of Entry
        The entries of one or more chains, each chain from sequence 0 in the order its store
        returned them (chains may be interleaved).
    checkpoint : Checkpoint or sequence of Checkpoint, optional
        Signed chain heads (the older form of :class:`SignedHead`) the chains must reach.
    public_key : Ed25519PublicKey, optional
        The signer's public key; required with ``checkpoint``, ``heads`` or ``witnessed``.
    heads : iterable of SignedHead, optional
        The ledger's own signed heads: each chain's first ``size`` entries must have the
        signed root; entries recorded before the newest head and not covered are forged.
        Without any, a chain whose tail was cut off still verifies (a valid, shorter chain).
    witnessed : iterable of SignedHead, optional
        Heads a witness kept outside the ledger; checked the same way, and each missing from
        ``heads`` is reported (deleted head rows).

    Returns
    -------
    VerificationReport
        ``ok``, counts, and the first broken entry of each chain with what is wrong.

    Notes
    -----
    Anchor entries (kind ``"anchor"``, see :meth:`Ledger.anchor`) are checked like unsigned
    checkpoints for the anchored chains that are among ``entries``.
    """
    by_chain: dict[str, list[tuple[int, Entry]]] = {}
    count = 0
    for index, entry in enumerate(entries):
        by_chain.setdefault(entry.chain, []).append((index, entry))
        count += 1

    def records(chain: str, start: int) -> Iterator[StoredEntry]:
        return (entry_record(entry) for _, entry in by_chain.get(chain, [])[start:])

    def input_index(chain: str, position: int) -> int:
        return by_chain[chain][position][0] if chain in by_chain else -1

    def hash_at(chain: str, sequence: int) -> str | None:
        items = by_chain.get(chain, [])
        return items[sequence][1].hash if 0 <= sequence < len(items) else None

    return _Verification(
        checkpoints=_as_checkpoints(checkpoint),
        heads=list(heads),
        witnessed=None if witnessed is None else list(witnessed),
        public_key=public_key,
    ).run(list(by_chain), records, hash_at, input_index, given=set(by_chain), count=count)


def verify_store(
    store: RecordStore,
    *,
    chains: Sequence[str] | None = None,
    checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    heads: Iterable[SignedHead] = (),
    witnessed: Iterable[SignedHead] | None = None,
    since: Mapping[str, ChainProgress] | None = None,
    parallel: ParallelReading | None = None,
) -> VerificationReport:
    """Verify the chains of a store (all by default) as :func:`verify` does, reading records.

    Parameters
    ----------
    store : RecordStore
        Where the chains are; read one chain at a time, as stored text.
    chains : sequence of str, optional
        The chains to verify; by default every chain of the store and of the heads.
    since : mapping of chain to ChainProgress, optional
        Resume each chain from its newest verified signed head (a report's ``progress``):
        only the entries after it are read, hashed and checked, and heads, checkpoints and
        anchors about earlier entries are taken as verified then.
    parallel : ParallelReading, optional
        Verify each long chain that is not resumed in two halves on two processes, the
        second read and hashed in the process ``parallel.begin`` starts: the same report,
        in about half the time on two free cores.
    checkpoint, public_key, heads, witnessed
        As for :func:`verify`.
    """
    head_list, witness_list = list(heads), None if witnessed is None else list(witnessed)
    if chains is None:
        named = set(store.chains())
        named.update(h.chain for h in head_list + (witness_list or []))
        names = sorted(named)
    else:
        names = list(chains)

    def records(chain: str, start: int) -> Iterator[StoredEntry]:
        return store.records(chain, start=start)

    def hash_at(chain: str, sequence: int) -> str | None:
        for record in store.records(chain, start=sequence):
            return record[-1] if record[0] == sequence else None
        return None

    return _Verification(
        checkpoints=_as_checkpoints(checkpoint),
        heads=head_list,
        witnessed=witness_list,
        public_key=public_key,
        since=dict(since or {}),
        parallel=parallel,
    ).run(
        names,
        records,
        hash_at,
        lambda chain, position: position,
        given=None,
        count=None,
        only=chains is not None,
    )


class _Verification:
    def __init__(
        self,
        *,
        checkpoints: list[Checkpoint],
        heads: list[SignedHead],
        witnessed: list[SignedHead] | None,
        public_key: Ed25519PublicKey | None,
        since: dict[str, ChainProgress] | None = None,
        parallel: ParallelReading | None = None,
    ) -> None:
        if (checkpoints or heads or witnessed or since) and public_key is None:
            raise InputError(
                "a signed head or checkpoint proves nothing without its signer's public key: "
                "pass public_key="
            )
        self.checkpoints = checkpoints
        self.heads = heads
        self.witnessed = witnessed
        self.public_key = public_key
        self.since = since or {}
        self.parallel = parallel
        self.problems: list[Problem] = []
        self.invalid: set[tuple[str, int, str, bytes]] = set()

    def run(
        self,
        names: Sequence[str],
        records: Callable[[str, int], Iterator[StoredEntry]],
        hash_at: Callable[[str, int], str | None],
        input_index: Callable[[str, int], int],
        *,
        given: set[str] | None,
        count: int | None,
        only: bool = False,
    ) -> VerificationReport:
        valid_heads = self._valid_heads()
        if only:
            valid_heads = [h for h in valid_heads if h.chain in names]
        for chain in sorted({h.chain for h in valid_heads} - set(names)):
            names = [*names, chain]  # a chain that vanished with its heads kept elsewhere
        results: dict[str, ChainResult] = {}
        for chain in names:
            chain_heads = sorted(
                (h for h in valid_heads if h.chain == chain), key=lambda h: (h.size, h.signed_at)
            )
            progress = self.since.get(chain)
            if progress is not None and progress.head.chain != chain:
                raise InputError(f"the progress given for chain {chain!r} is of another chain")
            start = progress.head.size - 1 if progress is not None and progress.head.size else 0
            found = None
            if self.parallel is not None and progress is None:
                found = check_chain_in_halves(chain, records(chain, 0), chain_heads, self.parallel)
            if found is None:
                found = check_chain(chain, records(chain, start), chain_heads, progress)
            results[chain] = found
        located = sorted(
            (
                (input_index(r.chain, r.problem_position), r.problem)
                for r in results.values()
                if r.problem is not None
            ),
            key=lambda pair: pair[0],
        )
        problems = [problem for _, problem in located]
        for result in results.values():
            problems += result.extra
        claims = self._checkpoint_claims() + anchor_claims(results)
        problems += self.problems
        problems += check_claims(claims, results, hash_at, given)
        if self.witnessed is not None:
            problems += compare_with_witness(self._signed(self.heads), self._signed(self.witnessed))
        total = sum(r.checked for r in results.values()) if count is None else count
        return VerificationReport(
            ok=not problems,
            entries_checked=total,
            heads={
                name: r.resumed_from + r.verified - 1
                for name, r in results.items()
                if given is None or name in given
            },
            checkpoints_checked=len(self.checkpoints),
            problems=tuple(problems),
            signed_heads_checked=len(valid_heads),
            progress={name: r.progress for name, r in results.items() if r.progress is not None},
            unsigned={name: r.unsigned for name, r in results.items() if r.unsigned},
        )

    def _signed(self, heads: list[SignedHead]) -> list[SignedHead]:
        return [h for h in heads if head_key(h) not in self.invalid]

    def _valid_heads(self) -> list[SignedHead]:
        """Check each head's signature once; those before a resumed head are taken as checked."""
        unique: dict[tuple[str, int, str, bytes], SignedHead] = {}
        for head in self.heads + (self.witnessed or []):
            unique.setdefault(head_key(head), head)
        for progress in self.since.values():
            unique.setdefault(head_key(progress.head), progress.head)
        valid: list[SignedHead] = []
        for head in unique.values():
            resumed = self.since.get(head.chain)
            if resumed is not None and head.size < resumed.head.size:
                continue
            if self.public_key is not None and verify_head(head, self.public_key):
                valid.append(head)
                continue
            self.invalid.add(head_key(head))
            self.problems.append(
                Problem(
                    "forged",
                    head.chain,
                    head.size,
                    f"{head.describe()} does not verify with the public key: it was forged "
                    "or altered",
                )
            )
        return valid

    def _checkpoint_claims(self) -> list[Claim]:
        claims: list[Claim] = []
        for cp in self.checkpoints:
            if self.public_key is None or not verify_checkpoint(cp, self.public_key):
                self.problems.append(
                    Problem(
                        "forged",
                        cp.chain,
                        cp.sequence,
                        f"the checkpoint signed at {rfc3339(cp.signed_at)} does not verify with "
                        "the public key: it was forged or altered",
                    )
                )
                continue
            claims.append((cp.chain, cp.sequence, cp.head_hash, "a checkpoint"))
        return claims


def _as_checkpoints(checkpoint: Checkpoint | Sequence[Checkpoint] | None) -> list[Checkpoint]:
    if checkpoint is None:
        return []
    if isinstance(checkpoint, Checkpoint):
        return [checkpoint]
    return list(checkpoint)
