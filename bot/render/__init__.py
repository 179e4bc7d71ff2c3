"""Turning briefings, articles and search hits into text pages and embed payloads."""
