"""Access control and accountability: roles, API keys, the append-only audit log.

Nothing here knows HTTP; :mod:`kb.api.access` maps URL paths to roles and turns these checks
into 401/403 responses. Both stores are plain SQLite files of their own in ``DATA_DIR``
(``keys.sqlite``, ``audit.sqlite``) opened with the standard library's ``sqlite3``: they need
triggers and ``BEGIN IMMEDIATE`` transactions written out in SQL, and they must not share a
file (or its locks and snapshots) with the document store. The audit log's HMAC key and its
anchor file live outside ``DATA_DIR`` (:mod:`kb.security.audit_key`,
:mod:`kb.security.audit_anchor`), so that a copy of the data directory cannot rewrite its log.
"""
