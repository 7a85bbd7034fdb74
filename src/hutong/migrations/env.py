"""Alembic environment: runs on the connection handed over by hutong.core.migrate."""

from __future__ import annotations

from alembic import context

from hutong.core import models  # noqa: F401  (registers every table)
from hutong.core.database import Base

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # the full-text index and hosted tables are made outside the ORM metadata
    return not (
        type_ == "table"
        and reflected
        and compare_to is None
        and (name or "").startswith(("resource_fts", "ds_"))
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from hutong.core.database import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as conn:
            context.configure(
                connection=conn,
                target_metadata=target_metadata,
                render_as_batch=True,
                include_object=include_object,
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
