"""The per-history file: one row per history as Parquet, written atomically (``politburo.io``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from politburo.io import atomic_write_bytes

if TYPE_CHECKING:
    from politburo.experiment.run import RunResult


def write_histories(path: str | os.PathLike[str], result: RunResult) -> None:
    """One row per history as Parquet, with seed, scenario hash and version in the metadata."""
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from politburo.runner.summary import per_history_table

    cols = per_history_table(result.model, result.histories)
    table = pa.table({k: pa.array(list(v)) for k, v in cols.items()})
    meta = {k: v for k, v in result.to_dict().items() if k in
            ("scenario", "seed", "runs", "scenario_hash", "version", "parameters",
             "platform")}
    table = table.replace_schema_metadata({"politburo": json.dumps(meta)})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(path, buf.getvalue())
