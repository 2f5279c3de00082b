"""Command families registered on the CLI (one module each)."""
