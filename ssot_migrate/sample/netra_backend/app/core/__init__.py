"""Application start-up and shared state."""
