"""Agents that stream their progress to the user over WebSocket."""
