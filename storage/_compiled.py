"""Core statements compiled once to driver SQL, for the store's hot path.

SQLAlchemy Core builds and compiles every statement; on the two per-request
statements (record an outcome, read the posteriors) we then run the compiled SQL on
the pooled DBAPI connection, which measured 2.6x faster than ``Connection.execute``
on SQLite (58 us vs 150 us per recorded outcome; see benchmarks/overhead.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """Driver SQL plus the order of its parameters (``None`` for named paramstyles).

    Example:
        >>> import sqlalchemy as sa
        >>> from sqlalchemy.dialects import sqlite
        >>> t = sa.table("t", sa.column("x"))
        >>> s = CompiledStatement.of(t.select().where(t.c.x == sa.bindparam("v")), sqlite.dialect())
        >>> s.sql, s.params({"v": 1})
        ('SELECT t.x \\nFROM t \\nWHERE t.x = ?', (1,))
    """

    sql: str
    order: tuple[str, ...] | None
    constants: Mapping[str, Any]

    @classmethod
    def of(cls, statement: sa.Executable, dialect: sa.Dialect) -> CompiledStatement:
        """Compile ``statement`` for ``dialect``; literal values become constant parameters."""
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        order = tuple(compiled.positiontup) if compiled.positional else None
        constants = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        return cls(str(compiled), order, constants)

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """Parameters in the shape the driver expects; every required name must be given."""
        merged = {**self.constants, **values} if self.constants else values
        if self.order is None:
            return merged
        return tuple(merged[name] for name in self.order)
