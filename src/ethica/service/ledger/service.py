"""Use cases of the ledger: verify every chain against the signed checkpoints."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from ethica.ledger import VerificationReport, verify
from ethica.service.ledger.store import SqlEntryStore, latest_checkpoints
from ethica.service.settings import Settings


def verify_ledger(
    session: Session, *, settings: Settings, chains: list[str] | None = None
) -> VerificationReport:
    """Check every chain (or the given ones) and that each reaches its newest signed checkpoint."""
    store = SqlEntryStore(session)
    names = store.chains() if chains is None else chains
    seed = settings.ledger.signing_key_bytes
    public_key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    checkpoints = [c for c in latest_checkpoints(session) if chains is None or c.chain in chains]
    return verify(
        (entry for name in names for entry in store.entries(name)),
        checkpoint=checkpoints,
        public_key=public_key,
    )
