"""Random bytes and SHA-256 that keep the GIL: the same as ``os.urandom`` and ``hashlib``."""

from __future__ import annotations

import hashlib
import os

import pytest

from ethica._gil import random_bytes, random_uuid, sha256_hex


def test_sha256_hex_equals_hashlib_on_both_sides_of_the_gil_threshold() -> None:
    data = os.urandom(10_000)
    for size in (0, 1, 2046, 2047, 2048, 2049, 4094, 4095, 4096, 10_000):
        assert sha256_hex(data[:size]) == hashlib.sha256(data[:size]).hexdigest()


def test_random_bytes_are_never_handed_out_twice() -> None:
    draws = [random_bytes(12) for _ in range(5_000)]  # the buffer is refilled many times
    assert {len(draw) for draw in draws} == {12}
    assert len(set(draws)) == len(draws)
    assert len(random_bytes(10_000)) == 10_000  # more than a buffer: straight from the OS
    ids = {random_uuid() for _ in range(1_000)}
    assert len(ids) == 1_000 and {u.version for u in ids} == {4}


# JAX (imported by OpenDP's synthesizers in the same test process) warns at every fork; the
# child here only draws bytes, so the warning is not this test's subject.
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")
def test_a_forked_child_draws_bytes_of_its_own() -> None:
    random_bytes(12)  # the parent's buffer now holds bytes it has not handed out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its draws go to the parent through the pipe
        os.write(write, b"".join(random_bytes(12) for _ in range(10)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = b"".join(random_bytes(12) for _ in range(10))
    assert len(child) == 120
    chunks = {child[i : i + 12] for i in range(0, 120, 12)}
    assert not chunks & {parent[i : i + 12] for i in range(0, 120, 12)}
