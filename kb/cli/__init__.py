"""The `kb` command line: `parser` reads the arguments, `commands` runs them."""

from kb.cli.commands import main

__all__ = ["main"]
