"""Files that are whole or absent after a crash or a full disk."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_whole(path: str, data: bytes, *, replace: bool = True) -> bool:
    """Put `data` at `path` so that after a crash the file is either whole or absent: written to
    a temporary file (mode 0600) in the same folder and flushed to disk, then renamed over
    `path` (atomic within one file system), then the folder flushed so that the rename itself
    is on disk. With `replace=False` an existing `path` is kept (of two processes writing at
    once, the first one's file stands) and False is returned."""
    folder = os.path.dirname(path) or "."
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    written = True
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails, unlike a rename, when `path` exists
            except FileExistsError:
                written = False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
    sync_folder(folder)
    return written


def sync_folder(folder: str) -> None:
    """Flush a folder's entries (files created, renamed or removed in it) to disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
