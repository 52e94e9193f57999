"""Backups and restores of the portal: the database and the generated documents in one
archive (``flask --app portal backup`` / ``restore``, see ``portal/backups/cli.py``)."""
