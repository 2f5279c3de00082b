"""Output: the ensemble report (HTML), a lever's world beside the baseline, the charts, and
the per-history files."""
