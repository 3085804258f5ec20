"""The ``hyperband`` command line (also ``python -m hyperband``): one module per subcommand.

``app`` builds the parser from the subcommands' (``schedule``, ``run``, ``report``), runs the
one asked for, and turns errors into exit codes; ``args`` holds what they share. The text and
plots they print come from ``hyperband.report``.
"""

from hyperband.cli.app import main
from hyperband.cli.args import CliError
from hyperband.cli.run import load_objective

__all__ = ["CliError", "load_objective", "main"]
