"""Backend application package."""
