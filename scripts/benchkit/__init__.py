"""Code the benchmark scripts share, importable as ``scripts.benchkit`` (each script puts the
project's root on ``sys.path`` first, as ``scripts/bench_feeds.py`` does):

* ``measure``: peak RSS and other ``/proc`` figures, percentiles, a stopwatch, GC pauses;
* ``workspace``: a seeded synthetic workspace (HR-flavoured texts, unit vectors around topic
  centres, the stand-in embedder that answers with stored vectors) written through the real
  database and Qdrant Edge.
"""
