"""The command line: a thin edge over the pure core.

Everything here parses arguments, calls the core, and formats what comes back (Rich tables on
stdout, a progress bar on stderr, JSON with ``--json``). Errors the user can fix are printed as
one clear message with exit code 2, never as a traceback.

One module per command (or family of commands), each with a ``register(app)``; what they share
(the app, options, failure handling) is in ``common``.
"""

from __future__ import annotations

import importlib

from politburo.cli.common import app

for _name in ("scenario", "run", "calibrate", "whatif", "chronicle", "report", "serve"):
    try:
        importlib.import_module(f"politburo.cli.{_name}").register(app)
    except ModuleNotFoundError as _exc:  # a command family not installed in this build
        if _exc.name != f"politburo.cli.{_name}":
            raise


def main() -> None:
    app()


if __name__ == "__main__":
    main()
