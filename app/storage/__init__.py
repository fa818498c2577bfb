"""Stores: meta (SQL), revision payloads and blobs, behind async interfaces."""
