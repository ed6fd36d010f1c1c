"""Touches: interactions with a contact that restart its cadence, typed in or read from files."""
