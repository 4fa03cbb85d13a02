"""What operators and developers run beside the product: backup and restore (backup.py), and the
demo year (demo.py, with its words in demo_content.py). The product's layers (web, services,
store) never import from here; server.py's commands do."""
