"""Database backends (PostgreSQL with row-level security bookkeeping)."""
