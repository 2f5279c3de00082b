"""Resumable calibration: a cache of finished distances, kept on disk as the run goes.

ABC in ``politburo.calibration.abc_smc`` names every simulation by (seed, history index) and
proposes its parameters from counter-based randomness, so a re-run of the same command asks for the
same (index, parameters) in the same order. ``CachedSimulator`` wraps a batch simulator: rows it has
already scored (same index, same parameter bytes) come from the cache; the rest are simulated and
written at once as one small file per batch (temporary file, fsync, rename), so an interrupted run
loses at most the batch in flight. This resumes rejection ABC chunk by chunk and also ABC-SMC, whose
every generation is re-derived from the cached distances of the one before.

The checkpoint folder holds ``manifest.json`` (what the distances depend on: scenario, engine,
targets, seed) and ``part-*.npz`` files. A folder made for another run is refused rather than
silently mixed in.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.calibration.abc_smc import BatchSimulator
from politburo.io import atomic_write_bytes


class CheckpointError(ValueError):
    """A checkpoint folder that belongs to a different calibration."""


def row_hashes(theta: NDArray[np.float64]) -> NDArray[np.uint64]:
    """A 64-bit digest of each parameter row's bytes."""
    rows = np.ascontiguousarray(theta, dtype=np.float64)
    return np.array([int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=8).digest(),
                                    "little") for r in rows], dtype=np.uint64)


class CachedSimulator:
    """Wrap ``inner`` with an on-disk cache of distances in ``folder`` (see module docstring)."""

    def __init__(self, inner: BatchSimulator, folder: Path, fingerprint: dict[str, Any]) -> None:
        self.inner = inner
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.cache: dict[int, tuple[int, float]] = {}
        self.reused = 0

    def open(self) -> CachedSimulator:
        """Create the folder, or load a matching one; raise CheckpointError on a mismatch."""
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            found = json.loads(manifest.read_text("utf-8"))
            if found != self.fingerprint:
                diff = sorted(k for k in {*found, *self.fingerprint}
                              if found.get(k) != self.fingerprint.get(k))
                raise CheckpointError(
                    f"{self.folder}: checkpoint of a different calibration (differs in "
                    f"{', '.join(diff)}); delete the folder or pass --fresh")
            for part in sorted(self.folder.glob("part-*.npz")):
                with np.load(part) as z:
                    for i, h, d in zip(z["index"], z["hash"], z["distance"], strict=True):
                        self.cache[int(i)] = (int(h), float(d))
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(manifest, json.dumps(self.fingerprint, indent=1).encode())
        return self

    def __call__(self, theta: NDArray[np.float64], seed: int, indices: NDArray[np.int64], /
                 ) -> NDArray[np.float64]:
        hashes = row_hashes(theta)
        out = np.empty(len(indices))
        todo = []
        for k, (i, h) in enumerate(zip(indices.tolist(), hashes.tolist(), strict=True)):
            hit = self.cache.get(i)
            if hit is not None and hit[0] == h:
                out[k] = hit[1]
            else:
                todo.append(k)
        self.reused += len(indices) - len(todo)
        if todo:
            sel = np.array(todo, dtype=np.int64)
            d = np.asarray(self.inner(theta[sel], seed, indices[sel]), dtype=np.float64)
            out[sel] = d
            self._save(indices[sel], hashes[sel], d)
        return out

    def _save(self, idx: NDArray[np.int64], hashes: NDArray[np.uint64],
              d: NDArray[np.float64]) -> None:
        buf = io.BytesIO()
        np.savez(buf, index=idx, hash=hashes, distance=d)
        atomic_write_bytes(self.folder / f"part-{int(idx[0])}-{len(idx)}.npz", buf.getvalue())
        for i, h, x in zip(idx.tolist(), hashes.tolist(), d.tolist(), strict=True):
            self.cache[i] = (h, x)

    def remove(self) -> None:
        """Delete the checkpoint folder (after the posterior is safely written)."""
        shutil.rmtree(self.folder, ignore_errors=True)
