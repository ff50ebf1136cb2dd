"""Netra chat backend (sample)."""
