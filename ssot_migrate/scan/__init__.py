"""``scan``: measure every SSOT violation of the configured targets, with evidence per site.

``facts`` gathers per-file facts in the engine's worker processes (each file's shared facts in
``filefacts``, each target's picklable slice and name matching in ``spec``), ``analysis``
assembles them into categories (``scan_repository``, ``ScanReport``; the class categories in
``classes``, the patch ones in ``patches``, every finding through ``sites``), ``report`` renders
them (table, JSON, Markdown, SARIF), ``baseline`` is the ``--baseline`` ratchet and ``cli`` the
command's body.
"""
