"""GET /models: the models online nodes serve, in OpenAI's shape."""
