"""The `tokenplace` command line."""
