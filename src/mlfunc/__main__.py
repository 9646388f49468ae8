"""Run the command line as ``python -m mlfunc``."""

from mlfunc.cli import main

main()
