"""Accounts and API keys (Token Router's whoami, me and keys routes)."""
