"""Image generation: a deterministic placeholder PNG in OpenAI's response shape."""
