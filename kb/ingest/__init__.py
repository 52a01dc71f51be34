"""Ingest: read source files (CSV, JSONL, Markdown, text, DOCX, PDF) into typed records."""
