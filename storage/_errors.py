"""Store errors; they extend the tree drawn in ``bandits._errors``::

StoreError                        the store could not do what was asked
├── StoreUnavailableError         cannot reach or open the store
├── CorruptStoreError             the file or database is not a usable store
├── SchemaTooNewError             a newer outcome-router migrated the store
└── UnknownRequestError (KeyError) report() for an id the store does not hold
"""

from __future__ import annotations

from bandits import RouterError


class StoreError(RouterError):
    """The store could not do what was asked; nothing already stored was changed."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened (server down, bad host, missing directory)."""


class CorruptStoreError(StoreError):
    """The file or database is not a usable outcome-router store."""


class SchemaTooNewError(StoreError):
    """The store's schema revision is newer than this outcome-router knows; upgrade it."""


class UnknownRequestError(StoreError, KeyError):
    """A report names a request id that the store holds no outcome for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
