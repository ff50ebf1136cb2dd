"""Auth service application."""
