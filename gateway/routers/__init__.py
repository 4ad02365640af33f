"""HTTP routers, one per API area. Each is mounted under /api/v1 and /v1."""
