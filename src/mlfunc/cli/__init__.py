"""The ``mlfunc`` command line: a thin shell over the Python API."""

from mlfunc.cli.main import main

__all__ = ["main"]
