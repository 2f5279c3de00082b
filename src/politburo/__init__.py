"""politburo: calibrated Monte Carlo histories of power struggles in a ruling party."""

__version__ = "0.1.0"
