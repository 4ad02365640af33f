"""Persistent relay state: the SQL database (SQLite by default, PostgreSQL by URL)."""

from tokenplace.relay.store.sql import Base, Contribution, ModelFeedback, SQLStore, as_utc, utc_now

__all__ = ["Base", "Contribution", "ModelFeedback", "SQLStore", "as_utc", "utc_now"]
