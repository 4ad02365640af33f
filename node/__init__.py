"""The compute node: holds a key pair, runs a model, answers sealed jobs."""
