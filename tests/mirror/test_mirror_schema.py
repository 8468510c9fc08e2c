"""The migrations build exactly the tables `schema.py` describes, on both databases, and an
API value of any length fits."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medblocks.mirror import Mirror, schema


def test_the_migrations_match_the_schema(mirror: Mirror) -> None:
    with mirror.writer.connect() as db:
        context = MigrationContext.configure(db, opts={"compare_type": True})
        differences = [
            d for d in compare_metadata(context, schema.metadata) if "alembic_version" not in str(d)
        ]
    assert differences == []
