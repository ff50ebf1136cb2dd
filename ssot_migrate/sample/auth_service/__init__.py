"""Auth service: a second service that pushes session events to users."""
