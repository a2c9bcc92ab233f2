"""Errors whose message is shown to the user as one line, without a traceback."""

from __future__ import annotations


class BurnError(Exception):
    """A runtime error the user can act on (exit code 1)."""

    exit_code = 1


class UsageError(BurnError):
    """Bad command-line usage (exit code 2)."""

    exit_code = 2


class PluginError(BurnError):
    """A plugin failed to load or to run while ``BURN_STRICT_PLUGINS=1``."""


class LedgerError(BurnError):
    """The ledger or its lock cannot be used."""
