"""Bringing records in and out: contact and article files, saving by URL, workspace export."""
