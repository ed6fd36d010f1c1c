"""The nightly suggestion batch: ``givefirst nightly`` as a script (the same command, the same
options). Run it once a night, for example from cron:

    15 5 * * *  cd /srv/givefirst && .venv/bin/python scripts/nightly_suggestions.py

``--help`` lists the options. Exit codes: 0 done, 1 cannot run, 2 bad option, 3 a delivery
failed, 4 a partial run (a list could not be built: the database stayed busy with another write;
the next run builds it). docs/nightly.md says more.
"""

import sys

from app.cli import cli

if __name__ == "__main__":
    cli(["nightly", *sys.argv[1:]], prog_name="nightly_suggestions.py")
