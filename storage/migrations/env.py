"""Alembic environment of the outcome-router store.

The store runs these migrations itself when it opens a store that is behind (see
``storage/_migrate.py``), handing Alembic its own connection, already inside the
transaction that holds the migration lock; ``outcome-router db upgrade [URL]`` does
the same from the command line. To write a new revision against a scratch database::

    python -c "from alembic import command; from storage._migrate import alembic_config; \\
        command.revision(alembic_config(url='sqlite:///scratch.db'), 'what changed', \\
        autogenerate=True, rev_id='0004')"

then add the id to ``REVISIONS`` in ``storage/_migrate.py``. Use ``op.batch_alter_table``
for every change to an existing table, so the revision also runs on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from storage._schema import VERSION_TABLE, metadata


def _configure(**options: object) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # autogenerate writes SQLite-safe batch operations
        **options,  # type: ignore[arg-type]
    )


def _run_offline() -> None:
    """Emit the migrations as SQL (``alembic upgrade --sql``)."""
    _configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online(connection: sa.Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():  # a no-op inside the store's own transaction
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        _run_offline()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_online(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as opened:
            _run_online(opened)
    finally:
        engine.dispose()


_main()
