"""How fast the ledger verifies: full and incremental, in memory, SQLite and PostgreSQL.

Builds one chain of ``--entries`` decision entries shaped like the service's (public fields,
sealed personal fields, a subject key id), signs a head every ``--head-every`` entries, stores
it in memory, in SQLite and in PostgreSQL (the service's ``ledger_entries`` table), then times:

- full verification of every entry and head, reading stored records (``verify_store``);
- the entry-object path (``verify`` over :class:`Entry` objects, what ``ethica ledger verify``
  did before records), on ``--entry-path-sample`` entries;
- incremental verification of ``--new`` entries appended after the newest verified head;
- the floor: SHA-256 of the same content bytes plus the Merkle leaf and node hashes alone;
- an inclusion proof check (signature + audit path), averaged over many proofs.

The machine may be shared: CPU seconds (this process and the one started to verify a chain's
second half, ``getrusage``) are printed next to wall seconds, and rates are per CPU second.
PostgreSQL's own CPU is not counted. "two halves" is ``verify_store(parallel=...)`` (SQL stores
only): its wall time, not its CPU, is what the second core saves.

    .venv/bin/python bench/ledger_verify.py                       # 10^6 entries, all stores
    .venv/bin/python bench/ledger_verify.py --entries 1e5 --stores memory,sqlite
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.orm import Session

from ethica.ledger import (
    GENESIS_HASH,
    ChainProgress,
    Frontier,
    MemoryEntryStore,
    MerkleTree,
    ParallelReading,
    SignedHead,
    StoredEntry,
    VerificationReport,
    canonical_json,
    record_entry,
    rfc3339,
    sign_head,
    stored_hash,
    verify,
    verify_store,
)
from ethica.ledger._verify_chain import _content
from ethica.service.ledger.second_half import spawned_reading
from ethica.service.ledger.store import SqlEntryStore
from ethica.service.ledger.tables import LedgerEntry

CHAIN = "credit-limit"
POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_SCHEMA = "ethica_bench_ledger_verify"
_COLUMNS = (  # in the library's StoredEntry order
    "sequence, recorded_at, kind, subject, public, sealed_nonce, sealed_ciphertext, key_id, "
    "previous_hash, hash"
)


def build(count: int, *, start: int = 0, previous: str = GENESIS_HASH) -> list[StoredEntry]:
    """Records of decision entries shaped like the service's, hashed and chained."""
    rng = random.Random(start)
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=start)
    records: list[StoredEntry] = []
    for sequence in range(start, start + count):
        public = canonical_json(
            {
                "decision_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "system_id": CHAIN,
                "outcome": rng.choice(["approved", "declined"]),
                "score": round(rng.random(), 4),
                "model_version": "lgbm-2026-01",
                "scored_by": "model",
                "review": {"status": "automatic", "reason": None},
                "data": {"used": ["income", "tenure", "utilization"], "withheld": []},
                "consent_version": 3,
                "explanation": "sealed",
            }
        ).decode()
        moment += timedelta(milliseconds=1)
        draft: StoredEntry = (
            sequence,
            rfc3339(moment),
            "decision",
            f"subject-{rng.randrange(100_000)}",
            public,
            base64.b64encode(rng.randbytes(12)).decode(),
            base64.b64encode(rng.randbytes(180)).decode(),
            rng.randbytes(16).hex(),
            previous,
            "",
        )
        previous = stored_hash(CHAIN, draft)
        records.append((*draft[:-1], previous))
    return records


def heads_every(
    records: list[StoredEntry], every: int, key: Ed25519PrivateKey, frontier: Frontier
) -> list[SignedHead]:
    """Sign a head each ``every`` entries (signed just after its last entry was recorded)."""
    heads: list[SignedHead] = []
    for record in records:
        frontier.append(bytes.fromhex(record[-1]))
        if frontier.size % every == 0:
            moment = datetime.fromisoformat(record[1]) + timedelta(microseconds=500)
            heads.append(sign_head(CHAIN, frontier.size, frontier.root(), key, signed_at=moment))
    return heads


class SqlRecords:
    """The service's SQL store of ``engine``'s ledger, one session per use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def chains(self) -> list[str]:
        with Session(self.engine) as session:
            return SqlEntryStore(session).chains()

    def records(self, chain: str, *, start: int = 0) -> Iterator[StoredEntry]:
        with Session(self.engine) as session:
            yield from SqlEntryStore(session).records(chain, start=start)

    def spawned_reading(self) -> ParallelReading:
        """The second half's reading (its process started now), as the service makes it."""
        with Session(self.engine) as session:
            reading = spawned_reading(session)
        assert reading is not None
        return reading


def load_sql(engine: Engine, records: list[StoredEntry]) -> None:
    """Insert records into ``ledger_entries`` (created if missing)."""
    LedgerEntry.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    names = [c.strip() for c in _COLUMNS.split(",")]
    with engine.begin() as connection:
        for start in range(0, len(records), 20_000):
            rows = [
                {"chain": CHAIN, **dict(zip(names, record, strict=True))}
                for record in records[start : start + 20_000]
            ]
            connection.execute(insert(LedgerEntry), rows)


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``work``: its result, CPU seconds (this process and its ended children), wall."""
    wall, cpu = time.perf_counter(), _cpu()
    result = work()
    return result, _cpu() - cpu, time.perf_counter() - wall


def _cpu() -> float:
    return time.process_time() + _children_cpu()


def _children_cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def floor(records: list[StoredEntry]) -> None:
    """SHA-256 of each entry's content bytes, its leaf and its share of nodes, nothing else."""
    contents = [_content(CHAIN, r) for r in records]
    sha256 = hashlib.sha256
    frontier = Frontier()
    wall, cpu = time.perf_counter(), time.process_time()
    for content in contents:
        frontier.append(sha256(content).digest())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    row("floor: hashlib only", "-", len(records), cpu, wall)


def row(case: str, store: str, count: int, cpu: float, wall: float) -> None:
    print(
        f"| {case:<38} | {store:<10} | {count:>9,} | {cpu:>7.2f} | {wall:>7.2f} | "
        f"{count / cpu:>12,.0f} | {count / wall:>12,.0f} |"
    )


def measure(
    name: str,
    store: Any,
    heads: list[SignedHead],
    extra: list[StoredEntry],
    extra_heads: list[SignedHead],
    public_key: Any,
    sample: int,
) -> None:
    """Time full verification of a store, then incremental after appending ``extra``."""
    count = heads[-1].size if heads else 0
    if name != "memory":  # the way before records: an Entry object built per row, then verified
        with Session(store.engine) as session:
            rows = SqlEntryStore(session)

            def before() -> VerificationReport:
                return verify(itertools.islice(rows.entries(CHAIN), sample))

            report, cpu, wall = timed(before)
        assert report.ok, str(report)
        row("entry objects read per row (before)", name, sample, cpu, wall)
    report, cpu, wall = timed(lambda: verify_store(store, heads=heads, public_key=public_key))
    assert report.ok and report.progress[CHAIN].head.size == count, str(report)
    row("full: records + every head", name, report.entries_checked, cpu, wall)
    if name != "memory":  # the second half is read by a process started for it
        own, children = time.process_time(), _children_cpu()
        halves, cpu, wall = timed(  # the process is started inside: its start is timed
            lambda: verify_store(
                store, heads=heads, public_key=public_key, parallel=store.spawned_reading()
            )
        )
        own, children = time.process_time() - own, _children_cpu() - children
        assert halves == report, "two halves must report what one pass does"
        row("full, two halves on two processes", name, report.entries_checked, cpu, wall)
        # On two free cores the wall time is the busier process's CPU time.
        busier = max(own, children)
        row("  the busier of the two processes", name, report.entries_checked, busier, wall)
        row("  this one: heads, first half", name, report.entries_checked, own, wall)
        row("  the started one: second half", name, report.entries_checked, children, wall)
    progress: dict[str, ChainProgress] = report.progress
    if name == "memory":
        store.stored(CHAIN).extend(extra)
    else:
        load_sql(store.engine, extra)
    report, cpu, wall = timed(
        lambda: verify_store(
            store, heads=heads + extra_heads, public_key=public_key, since=progress
        )
    )
    assert report.ok and report.entries_checked == len(extra) + 1, str(report)
    row(f"incremental: {len(extra):,} new after the head", name, len(extra), cpu, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=float, default=1e6)
    parser.add_argument("--new", type=float, default=1e4)
    parser.add_argument("--head-every", type=int, default=1000)
    parser.add_argument("--entry-path-sample", type=float, default=1e5)
    parser.add_argument("--stores", default="memory,sqlite,postgresql")
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()
    count, new = int(args.entries), int(args.new)
    key = Ed25519PrivateKey.generate()
    public_key = key.public_key()

    print(f"building {count:,} entries and a head every {args.head_every:,} ...", flush=True)
    records = build(count)
    frontier = Frontier()
    heads = heads_every(records, args.head_every, key, frontier)
    extra = build(new, start=count, previous=records[-1][-1])
    extra_heads = heads_every(extra, args.head_every, key, frontier.copy())

    stores: dict[str, Any] = {}
    for name in args.stores.split(","):
        if name == "memory":
            memory = MemoryEntryStore()
            memory.stored(CHAIN).extend(records)
            stores[name] = memory
        elif name in ("sqlite", "postgresql"):
            if name == "sqlite":
                folder = Path(tempfile.mkdtemp(prefix="ethica-bench-"))
                engine = create_engine(f"sqlite:///{folder / 'ledger.db'}")
            else:
                # A schema of its own: other work on the shared database keeps its tables.
                engine = create_engine(
                    POSTGRESQL_URL, connect_args={"options": f"-csearch_path={BENCH_SCHEMA}"}
                )
                with engine.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))
                    connection.execute(text(f"CREATE SCHEMA {BENCH_SCHEMA}"))
            print(f"loading {name} ...", flush=True)
            load_sql(engine, records)
            stores[name] = SqlRecords(engine)

    print()
    print(
        f"| {'case':<38} | {'store':<10} | {'entries':>9} | {'cpu s':>7} | {'wall s':>7} |"
        f" {'entries/cpu s':>12} | {'entries/wall s':>12} |"
    )
    print(f"|{'-' * 40}|{'-' * 12}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 15}|{'-' * 16}|")
    floor(records)
    sample = records[: int(args.entry_path_sample)]
    entries = [record_entry(CHAIN, r) for r in sample]
    sample_heads = [h for h in heads if h.size <= len(sample)]
    report, cpu, wall = timed(lambda: verify(entries, heads=sample_heads, public_key=public_key))
    assert report.ok, str(report)
    row("entry objects, already built (before)", "memory", len(sample), cpu, wall)
    for name, store in stores.items():
        measure(name, store, heads, extra, extra_heads, public_key, len(sample))

    print(f"\nbuilding the Merkle tree of {count:,} entries for proofs ...", flush=True)
    tree = MerkleTree(bytes.fromhex(r[-1]) for r in records)
    head = heads[-1]
    rng = random.Random(7)
    picks = [rng.randrange(head.size) for _ in range(args.proofs)]
    from ethica.ledger import InclusionProof

    proofs = [
        InclusionProof(
            head=head,
            sequence=i,
            entry_hash=records[i][-1],
            path=tuple(h.hex() for h in tree.inclusion_proof(i, head.size)),
        )
        for i in picks
    ]
    _, cpu, wall = timed(lambda: [p.verify(public_key) for p in proofs])
    from ethica.ledger import verify_inclusion

    root = bytes.fromhex(head.root)
    paths = [[bytes.fromhex(h) for h in p.path] for p in proofs]
    _, path_cpu, _ = timed(
        lambda: [
            verify_inclusion(bytes.fromhex(p.entry_hash), p.sequence, head.size, path, root)
            for p, path in zip(proofs, paths, strict=True)
        ]
    )
    print(
        f"inclusion proof check ({len(proofs[0].path)} hashes, tree of {head.size:,}): "
        f"{cpu / len(proofs) * 1e3:.3f} ms with the Ed25519 head signature, "
        f"{path_cpu / len(proofs) * 1e3:.3f} ms for the audit path alone (CPU, mean of "
        f"{len(proofs):,})"
    )
    print(json.dumps({"entries": count, "heads": len(heads)}))
    if "postgresql" in stores:  # a million rows of another's shared database: give it back
        with stores["postgresql"].engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE"))


if __name__ == "__main__":
    main()
