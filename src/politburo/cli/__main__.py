"""``python -m politburo.cli``: the same command line as the ``politburo`` script."""

from politburo.cli import main

main()
