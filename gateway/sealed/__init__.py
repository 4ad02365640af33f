"""Relay-blind sealed requests (the relay's SealedRequestService over HTTP), and the
launch contract's internal relay routes, kept fail-closed."""
