"""The one exception family of wfmlab.

Every error a user can cause (bad config key, bad file, bad column, bad row) is a :class:`WfmError`
whose message names *where* the problem is (file, column, row or config key) and *what was expected*.
The CLI prints the message and exits with status 2; it never shows a traceback for a ``WfmError``.

It lives in ``forecast`` because ``forecast`` is the bottom of the import graph (it imports none of
the other packages); ``sim``, ``optim`` and ``experiments`` re-export it.
"""

from __future__ import annotations


class WfmError(Exception):
    """Base class of every error wfmlab raises on bad input."""


class ConfigError(WfmError, ValueError):
    """A configuration value (a Hydra key or a function argument) is invalid.

    ``ConfigError("expected ...", key="target")`` renders as ``"target: expected ..."``; a caller that knows
    where the value came from re-raises it with :meth:`under` to give the full key path
    (``scenario.channels.voice.target: expected ...``).
    """

    def __init__(self, message: str, key: str | None = None):
        self.key = key
        self.detail = message
        super().__init__(f"{key}: {message}" if key else message)

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key put under ``prefix`` (e.g. ``scenario.channels.voice``)."""
        key = f"{prefix}.{self.key}" if self.key else prefix
        return ConfigError(self.detail, key=key)


class DataError(WfmError, ValueError):
    """An input file or table is invalid (missing column, bad row, ...)."""


class SolverError(WfmError, RuntimeError):
    """A solver is missing, too small for the model (license) or failed."""


class InfeasibleError(WfmError, RuntimeError):
    """A model has no feasible solution; the message says which constraints cannot be met."""
