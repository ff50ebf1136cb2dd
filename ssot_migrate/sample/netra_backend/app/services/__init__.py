"""Services built on the WebSocket manager."""
