"""PostgreSQL engines whose every wait is bounded: connecting, checking a pooled
connection, and running a call (see ``storage/_watchdog.py`` for why in the client)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from bandits import ConfigError
from storage._passwords import hide_password
from storage._watchdog import CURRENT, WATCHDOG, connect_within

CONNECT_TIMEOUT = 5
"""Seconds to wait for a new connection, unless the URL (``?connect_timeout=``) or
``engine_options={"connect_args": {"connect_timeout": ...}}`` says otherwise."""


def postgres_engine(url: sa.URL, options: Mapping[str, Any]) -> sa.Engine:
    """``create_engine`` with bounded connects and watched calls, and the caller's options
    (pool sizes, ``connect_args``...); an option SQLAlchemy refuses is a ConfigError.

    A pooled connection is pinged when it is checked out (as ``pool_pre_ping`` would,
    but within the call's time): one the server dropped is replaced at once.
    """
    try:
        engine = sa.create_engine(url, **{"pool_pre_ping": False, **options})
    except (TypeError, sa.exc.ArgumentError) as exc:
        raise ConfigError(
            f"engine_options {sorted(options)} were refused by SQLAlchemy: "
            f"{hide_password(str(exc))}; see sqlalchemy.create_engine for the options it takes"
        ) from exc
    dbapi = engine.dialect.loaded_dbapi

    @sa.event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        bound = float(cparams.setdefault("connect_timeout", CONNECT_TIMEOUT))
        if not (math.isfinite(bound) and bound > 0):
            bound = float(CONNECT_TIMEOUT)
        timer = CURRENT.get()
        limit = bound if timer is None else min(bound, timer.remaining())
        connection = connect_within(
            lambda: dialect.connect(*cargs, **cparams), limit, dbapi.OperationalError
        )
        record.info["fresh"] = True  # just made: no need to ping it
        return connection

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        timer = CURRENT.get()
        if timer is not None:
            WATCHDOG.arm(timer, dbapi_connection.fileno())
        if record.info.pop("fresh", False):
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        except dbapi.Error as exc:
            if timer is not None and timer.fired:
                raise  # no answer in time: the call fails, the connection goes
            # The server dropped it (a restart, a failover): the pool takes a new one.
            raise sa.exc.DisconnectionError(str(exc)) from exc
        finally:
            cursor.close()

    return engine
