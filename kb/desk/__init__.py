"""The consultation desk's work beyond a single search (issue 19).

Consultation records (:mod:`kb.desk.records`) that become searchable closed cases, hand-off
sheets for the receiving department (:mod:`kb.desk.handoff`), and their exports. The package
sits at the trainer's level: it uses search, index, ingest, store and text, never the API or
the command line.
"""
