"""Writing results to disk, atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from politburo.api import RunResult


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_histories(path: Path, result: RunResult) -> None:
    """One row per history as Parquet, with seed, scenario hash and version in the metadata."""
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from politburo.results import per_history_table

    cols = per_history_table(result.model, result.histories)
    table = pa.table({k: pa.array(list(v)) for k, v in cols.items()})
    meta = {k: v for k, v in result.to_dict().items() if k in
            ("scenario", "seed", "runs", "scenario_hash", "version", "parameters")}
    table = table.replace_schema_metadata({"politburo": json.dumps(meta)})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(Path(path), buf.getvalue())
