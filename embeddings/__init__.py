"""Embedding and vector-index library. Knows nothing of the app."""
