"""Persistence: SQLAlchemy tables, engines, migrations and the encrypted blob folder."""
