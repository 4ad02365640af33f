"""The gateway: an OpenAI-compatible FastAPI facade that speaks gRPC to the relay."""
