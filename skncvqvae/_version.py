"""The package version, recorded in saved files."""

__version__ = "0.1.0"
