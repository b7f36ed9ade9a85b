"""Key-encryption keys per erasure epoch, in a file outside the database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ethica.ledger import KeyFile, KeyRing, MasterKey, MasterKeyError, MemoryKeyStore

MASTER = MasterKey(bytes(range(32)))


def _wrapped_key(subject: str = "ana") -> tuple[str, bytes]:
    store = MemoryKeyStore()
    KeyRing(MASTER, store=store).seal({"x": 1}, subject=subject, chain="c", sequence=0, kind="k")
    stored = store.get(subject)
    assert stored is not None
    return stored.key_id, stored.wrapped


def test_a_key_wrapped_under_an_epoch_unwraps_until_the_epoch_is_retired(tmp_path: Path) -> None:
    keys = KeyFile(tmp_path / "keys.json", MASTER)
    key_id, inner = _wrapped_key()
    first, outer = keys.wrap(inner, subject="ana", key_id=key_id)
    assert keys.epochs() == [first] and outer != inner and inner not in outer
    assert keys.unwrap(outer, subject="ana", key_id=key_id, epoch=first) == inner
    with pytest.raises(MasterKeyError, match="altered"):  # bound to the subject
        keys.unwrap(outer, subject="bob", key_id=key_id, epoch=first)

    second = KeyFile.new_epoch_id()
    keys.add_epoch(second)
    assert keys.current() == second and sorted(keys.epochs()) == sorted([first, second])
    moved = keys.rewrap(outer, subject="ana", key_id=key_id, epoch=first, to=second)
    assert keys.keep_only([second]) == [first]
    assert keys.unwrap(moved, subject="ana", key_id=key_id, epoch=second) == inner
    with pytest.raises(MasterKeyError, match="no key-encryption key for epoch"):
        keys.unwrap(outer, subject="ana", key_id=key_id, epoch=first)


def test_retiring_overwrites_the_old_file_and_other_processes_follow(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keys, other = KeyFile(path, MASTER), KeyFile(path, MASTER)  # two processes
    first = keys.current()
    old_wrapped_kek = json.loads(path.read_bytes())["epochs"][first].encode()
    with open(path, "rb") as old:  # a handle on the file as it was
        second = KeyFile.new_epoch_id()
        keys.add_epoch(second)
        keys.keep_only([second])
        old.seek(0)
        left_in_old_file = old.read()
    assert old_wrapped_kek not in left_in_old_file and old_wrapped_kek not in path.read_bytes()
    assert other.current() == second and other.epochs() == [second]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json", "keys.json.lock"]
    assert os.stat(path).st_mode & 0o077 == 0  # readable by its owner only


def test_the_current_epoch_is_never_retired_and_master_only_keys_move_in(
    tmp_path: Path,
) -> None:
    keys = KeyFile(tmp_path / "keys.json", MASTER)
    current = keys.current()
    assert keys.keep_only([]) == [] and keys.epochs() == [current]
    key_id, inner = _wrapped_key()
    moved = keys.rewrap(inner, subject="ana", key_id=key_id, epoch=None, to=current)
    assert keys.unwrap(moved, subject="ana", key_id=key_id, epoch=current) == inner


def test_a_key_file_needs_its_master_key(tmp_path: Path) -> None:
    KeyFile(tmp_path / "keys.json", MASTER).current()
    with pytest.raises(MasterKeyError):
        KeyFile(tmp_path / "keys.json", MasterKey.generate()).current()
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(MasterKeyError, match="cannot read the key file"):
        KeyFile(tmp_path / "bad.json", MASTER).current()
