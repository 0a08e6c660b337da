"""Persistence: SQLAlchemy models, sessions, migrations (SQLite and PostgreSQL)."""
