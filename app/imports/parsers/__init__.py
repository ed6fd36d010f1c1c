"""Readers of the files people bring (and writers of the ones they take away).

Plain Python: no HTTP, no database. Each reader turns a file into rows with their place in the
file, plus the rows it could not read and why; a file it cannot read at all raises
``FileRejected``.
"""
