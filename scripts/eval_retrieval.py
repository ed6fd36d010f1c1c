"""Match quality on a retrieval dataset in BEIR layout: ``givefirst eval`` as a script (the same
command, the same options).

    .venv/bin/python scripts/eval_retrieval.py --dataset DIR --cache-dir ./eval-cache [--json]

``--help`` lists the options.
"""

import sys

from app.cli import cli

if __name__ == "__main__":
    cli(["eval", *sys.argv[1:]], prog_name="eval_retrieval.py")
