"""Writing results to disk, atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


class OutputError(ValueError):
    """An output path that cannot or must not be written, with a message fit to show a user."""


STDOUT = "-"


def check_output(path: str | os.PathLike[str]) -> Path | None:
    """The file to write for ``path``, checked before any work is done: None for ``-``
    (standard output); else a regular file, existing or not, in a folder that exists.

    Missing folders are not created (a typo would silently make a tree of them), and an
    existing path that is not a regular file (a device such as ``/dev/full``, a folder, a pipe)
    is refused: an atomic write replaces its target, and replacing a device node with a file
    would break the machine for everyone. A symbolic link is followed to the file it names.
    """
    if str(path) == STDOUT:
        return None
    given = Path(path)
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    folder = target.parent
    if not folder.exists():
        raise OutputError(f"{given}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise OutputError(f"{given}: {folder} is not a folder")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{given}: cannot use it as an output ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else (
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
            "not a regular file")
        raise OutputError(f"{given}: exists and is {kind}; expected a regular file to write")
    return target


def probe_output(path: str | os.PathLike[str]) -> None:
    """``check_output``, and a temporary file made and removed in the target's folder, so that
    a folder that refuses new files (``/proc``, a read-only disk) fails before the work."""
    target = check_output(path)
    if target is None:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` (``-``: standard output) atomically: a temporary file in the
    same folder, then ``os.replace``. Raises :class:`OutputError` for a path that
    ``check_output`` refuses or a write that fails."""
    target = check_output(path)
    if target is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        check_output(target)  # again, just before the rename: it may have changed meanwhile
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
