"""Callers: accounts and API keys, admission (who may call, within which limits),
rate limits, and Tok0n-style billing (reserve, settle, release) around dispatch."""
