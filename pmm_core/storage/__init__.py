"""Storage: the SQLite database, its migrations and the store, split by subject behind one class."""
