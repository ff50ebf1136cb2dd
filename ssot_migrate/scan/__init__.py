"""``scan``: measure every SSOT violation of the configured targets, with evidence per site.

``facts`` gathers per-file facts in the engine's worker processes, ``analysis`` assembles them
into categories (``scan_repository``, ``ScanReport``), ``report`` renders them (table, JSON,
Markdown, SARIF), ``baseline`` is the ``--baseline`` ratchet and ``cli`` the command's body.
"""
