"""Operator routes: rotate the gateway's key pair, remove a compute node."""
