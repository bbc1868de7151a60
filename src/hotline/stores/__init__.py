"""Where hotline keeps state: Redis (live) and SQLite (history)."""
