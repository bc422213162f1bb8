"""Alembic migrations, installed as the package ``aggregator.migrations``."""
