"""The erasure journal: MAC'd lines of completed erasures, naming nobody, refused when altered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ethica.errors import InputError
from ethica.ledger import ErasureJournal, ErasureRecord, KeyRing, MasterKey

MASTER = MasterKey.generate()


def _erasure(subject: str, sequence: int) -> ErasureRecord:
    return ErasureRecord(
        KeyRing(MASTER).pseudonym(subject), "2026-12-04T05:00:00+00:00", "subjects", sequence, "ab"
    )


def test_erasures_read_back_in_order_and_name_nobody(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path / "folder" / "erasures.jsonl", MASTER)
    assert journal.records() == []  # no file yet: nothing was erased
    first, second = _erasure("cust-1", 3), _erasure("cust-2", 5)
    journal.record(first)
    journal.record(second)
    assert ErasureJournal(journal.path, MASTER.export()).records() == [first, second]
    text = journal.path.read_text()
    assert "cust-1" not in text and "cust-2" not in text
    assert first.pseudonym in text and text.endswith("\n")
    assert journal.path.stat().st_mode & 0o077 == 0  # the owner's only


def test_an_id_in_clear_is_refused(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path / "erasures.jsonl", MASTER)
    with pytest.raises(InputError, match="erased: pseudonym"):
        journal.record(ErasureRecord("cust-1", "2026-12-04", "subjects", 1, "ab"))
    assert not journal.path.exists()


@pytest.mark.parametrize(
    ("alter", "why"),
    [
        (lambda text: text.replace('"sequence": 5', '"sequence": 6'), "MAC does not match"),
        (lambda text: text[:-1], "cut short"),
        (lambda text: text[: len(text) // 2 + 40], "cut short"),
        (lambda text: text + "{}\n", "line 3 .* not an erasure record"),
        (lambda text: text + "not json\n", "line 3 .* not an erasure record"),
    ],
)
def test_an_edited_or_cut_line_is_named(
    tmp_path: Path, alter: Callable[[str], str], why: str
) -> None:
    journal = ErasureJournal(tmp_path / "erasures.jsonl", MASTER)
    journal.record(_erasure("cust-1", 3))
    journal.record(_erasure("cust-2", 5))
    journal.path.write_text(alter(journal.path.read_text()))
    with pytest.raises(InputError, match=f"erasure journal .*{why}|{why}") as caught:
        journal.records()
    assert "line " in str(caught.value) and "restore the journal" in str(caught.value)


def test_another_master_key_does_not_vouch_for_the_lines(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path / "erasures.jsonl", MASTER)
    journal.record(_erasure("cust-1", 3))
    with pytest.raises(InputError, match="line 1 .*MAC does not match"):
        ErasureJournal(journal.path, MasterKey.generate()).records()
