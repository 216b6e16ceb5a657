"""The collector's Alembic migrations; db.py configures Alembic in code and runs them."""
