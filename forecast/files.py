"""Files written whole and CSV tables read as text: the helpers every stage shares (forecast is the bottom
of the import graph, so sim, optim and experiments import them from here)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from forecast.errors import DataError

__all__ = ["read_csv_text", "write_atomic"]


def write_atomic(path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path`` (so a reader
    never sees a half-written file); the temporary file is removed if ``write`` fails. The file gets the
    mode of a plainly created one (``mkstemp``'s 0600 is widened by the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_csv_text(path) -> pd.DataFrame:
    """A CSV read with every cell as text (empty cells stay ``""``); a missing or unreadable file is a
    :class:`DataError` naming it."""
    path = Path(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: a directory, not a CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from None
