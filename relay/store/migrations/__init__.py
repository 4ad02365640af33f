"""Alembic migrations of the relay's SQL store; run them with relay.store.migrate.upgrade."""
