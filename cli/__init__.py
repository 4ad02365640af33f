"""The `tokenplace` command line."""

from tokenplace.cli.grpc_io import prefer_epoll_poller

# Here, not in cli.main: gRPC reads its experiments when first imported (cli/grpc_io.py).
prefer_epoll_poller()
