"""What operators and developers run beside the product: backup and restore (backup.py), and the
demo year (demo/, with its words in demo/words/). The product's layers (web, services, store)
never import from here; server.py's commands do."""
