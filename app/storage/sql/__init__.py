"""The SQL meta store (SQLite and PostgreSQL through SQLAlchemy Core)."""
