"""ssot-migrate: consolidate a codebase onto a single source of truth, in phased codemods."""

__version__ = "0.1.0"
