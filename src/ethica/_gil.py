"""Random bytes and SHA-256 for the hot paths, without letting go of the GIL.

``os.urandom`` (and so ``uuid.uuid4``) releases the GIL around its system call, and
``hashlib`` releases it for inputs of 2048 bytes or more (as its documentation says). Each
release is cheap alone, but a thread that releases the GIL while another thread runs Python
code must then wait for that thread to give it back: up to the interpreter's switch interval
(5 ms). In the service, the thread that prepares and records decisions did so three times per
decision while the event loop thread served HTTP (measured beside a busy thread: ``uuid4``
0.42 ms and a 4 KB SHA-256 0.83 ms per call, against microseconds alone).

So these draw random bytes from a buffer filled by ``os.urandom`` a few kilobytes at a time,
and hash in pieces under the threshold. The bytes are the operating system's CSPRNG output,
each handed out once; a forked child starts a buffer of its own. Use :func:`random_bytes` for
values that are public once used (nonces, identifiers), never for keys: a key's bytes should
not wait in a buffer before their use.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid

#: Bytes drawn from ``os.urandom`` at a time.
_FILL = 4096
#: hashlib releases the GIL for inputs of this many bytes or more.
_GIL_RELEASE_BYTES = 2048

_lock = threading.Lock()
_buffer = b""
_taken = 0
_owner = 0  # the process the buffer was filled in


def random_bytes(count: int) -> bytes:
    """Return ``count`` bytes from the operating system's CSPRNG (for nonces and identifiers)."""
    global _buffer, _taken, _owner
    if count > _FILL:
        return os.urandom(count)
    with _lock:
        pid = os.getpid()
        if pid != _owner or _taken + count > len(_buffer):
            _buffer, _taken, _owner = os.urandom(_FILL), 0, pid
        start = _taken
        _taken += count
        return _buffer[start:_taken]


def random_uuid() -> uuid.UUID:
    """Return a random (version 4) UUID, as :func:`uuid.uuid4` does."""
    return uuid.UUID(bytes=random_bytes(16), version=4)


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``, fed to hashlib in pieces that keep the GIL."""
    digest = hashlib.sha256()
    view = memoryview(data)
    step = _GIL_RELEASE_BYTES - 1
    for start in range(0, len(view), step):
        digest.update(view[start : start + step])
    return digest.hexdigest()
