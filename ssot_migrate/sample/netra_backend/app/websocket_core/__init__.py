"""WebSocket infrastructure: one manager per user execution context."""
