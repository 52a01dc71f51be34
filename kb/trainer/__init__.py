"""Trainer tools: topics from closed cases, FAQ gaps, manual drafts, FAQ candidates, feedback.

A stage above :mod:`kb.search`: it reads a serving index folder (stored embeddings and the
store snapshot, never re-embedding documents), the query log and the feedback log. Nothing
below it imports it.
"""
