"""Many histories: batches run here, over worker processes or on a Dask cluster, and the
summary of an ensemble (odds with intervals, milestone months)."""
