"""Prospects' replies: new-text extraction, auto-reply detection, intent classification."""
