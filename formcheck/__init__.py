"""formcheck: squat form analysis from video."""

__version__ = "0.1.0"
