"""Alembic migrations for the newsbot schema."""
