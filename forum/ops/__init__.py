"""What operators and developers run beside the product: backup (backup.py: the archive and its
writing) and restore (restore.py: reading, checking, loading; restore_sqlite.py: into SQLite at
once), their commands (commands.py), and the demo year (demo/, with its words in demo/words/).
The product's layers (web, services, store) never import from here; server.py's commands do."""
