r"""Benchmark of the import parsers on pathological files at the upload limit (10 MiB).

Each shape is a file a person could upload that once made a parser take more than linear time
or memory (or crash): a vCard value continued over 870,000 quoted-printable (or folded) lines, a
parameter list of a million entries, bookmark folders nested 175,000 deep around 136,000
bookmarklets, a bookmarks file that ends in 10 MB of unfinished ``<a`` tags, an OPML file nested
308,000 deep, and a CSV row with five million values. ``tests/test_import_pathological.py``
imports the same files through the API and checks the reports.

Each run is a fresh process that builds the file and reads it with the parser the import route
calls (``parse_contacts`` or ``parse_articles``, before any row is stored): the time of that call,
and the process's peak RSS (its own ``getrusage``) beside a baseline process that builds the
file and reads nothing. ``--source DIR`` reads with the ``app`` package of another checkout (the
code before a fix, from ``git archive``), in the same run; ``--timeout`` and ``--max-memory-mib``
stop a run that would take hours or all the machine's memory, and say so.

    .venv/bin/python scripts/bench_import_pathological.py                  # every shape, 3 runs
    .venv/bin/python scripts/bench_import_pathological.py --shapes vcard-qp --size 655360 \
        --source /tmp/before --runs 1                                      # the code before
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 10 * 2**20  # GIVEFIRST_IMPORT_MAX_BYTES's default
GOOD_CARD = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\nEMAIL:grace@example.com\r\nEND:VCARD\r\n"
)
BOOKMARKS_HEAD = b"<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<TITLE>Bookmarks</TITLE>\n<DL><p>\n"
DEEP_URL = "https://example.com/deep"


def _filled(head: bytes, unit: bytes, tail: bytes, size: int) -> bytes:
    """``head``, ``unit`` as many times as fit in ``size`` bytes, ``tail``."""
    count = max((size - len(head) - len(tail)) // len(unit), 1)
    return head + unit * count + tail


def vcard_qp(size: int) -> bytes:
    """One quoted-printable NOTE continued (``=`` at the line end) over the whole file."""
    head = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Quoted Printable\r\nNOTE;ENCODING=QUOTED-PRINTABLE:"
    return _filled(head, b"=41=42=43=\r\n", b"D\r\nEND:VCARD\r\n" + GOOD_CARD, size)


def vcard_folded(size: int) -> bytes:
    """One NOTE folded (a space at the line start) over the whole file."""
    head = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Folded\r\nNOTE:start"
    return _filled(head, b"\r\n abcdefgh", b"\r\nEND:VCARD\r\n" + GOOD_CARD, size)


def vcard_parameters(size: int) -> bytes:
    """An EMAIL with a million parameters."""
    head = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL"
    return _filled(head, b";TYPE=home", b":ada@example.com\r\nEND:VCARD\r\n" + GOOD_CARD, size)


def bookmarks_nested(size: int) -> bytes:
    """Folders nested as deep as half the file allows, bookmarklets (``javascript:``, skipped)
    in the other half, and one web link at the bottom."""
    folders = b"".join(b"<DT><H3>Folder %d</H3>\n<DL><p>\n" % n for n in range(size // 2 // 30))
    link = f'<DT><A HREF="{DEEP_URL}">Deep</A>\n'.encode()
    return _filled(
        BOOKMARKS_HEAD + folders + link, b'<DT><A HREF="javascript:0">x</A>\n', b"", size
    )


def bookmarks_unclosed(size: int) -> bytes:
    """A link, then ``<a`` until the end: tags that never close."""
    head = BOOKMARKS_HEAD + f'<DT><A HREF="{DEEP_URL}">Deep</A>\n'.encode()
    return _filled(head, b"<a", b"", size)


def opml_nested(size: int) -> bytes:
    """Outlines nested as deep as the file allows, a feed at the bottom."""
    head, tail = b'<opml version="2.0"><body>', b"</body></opml>"
    feed = f'<outline text="Feed" xmlUrl="{DEEP_URL}.xml" htmlUrl="{DEEP_URL}"/>'.encode()
    levels = (size - len(head) - len(feed) - len(tail)) // len(
        b'<outline text="L000000"></outline>'
    )
    opening = b"".join(b'<outline text="L%06d">' % n for n in range(levels))
    return head + opening + feed + b"</outline>" * levels + tail


def csv_wide_row(size: int) -> bytes:
    """A LinkedIn export whose second row has millions of values."""
    head = b"First Name,Last Name,Email Address,Company,Position,Connected On\nAda,Lovelace,,,,\n"
    return _filled(head, b"a,", b"\n", size)


SHAPES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "vcard-qp": ("contacts", vcard_qp),
    "vcard-folded": ("contacts", vcard_folded),
    "vcard-parameters": ("contacts", vcard_parameters),
    "bookmarks-nested": ("articles", bookmarks_nested),
    "bookmarks-unclosed": ("articles", bookmarks_unclosed),
    "opml-nested": ("articles", opml_nested),
    "csv-wide-row": ("contacts", csv_wide_row),
}


def work(shape: str, size: int, parse: bool) -> dict[str, Any]:
    """In the child: build the file, read it (unless ``parse`` is False), time the read."""
    kind, build = SHAPES[shape]
    data = build(size)
    if kind == "contacts":
        from app.imports.parsers.contacts import parse_contacts as parser
    else:
        from app.imports.parsers.articles import parse_articles as parser
    start = time.perf_counter()
    if parse:
        parsed = parser(data)
        rows, skipped = len(parsed.rows), len(parsed.skipped)
    else:
        rows = skipped = 0
    return {
        "bytes": len(data),
        "seconds": time.perf_counter() - start,
        "rows": rows,
        "skipped": skipped,
    }


def run(args: argparse.Namespace, shape: str, source: Path, parse: bool) -> dict[str, Any]:
    """One fresh process; its result, wall time and peak RSS, or why it was stopped."""
    command = [sys.executable, __file__, "--worker", shape, "--size", str(args.size)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    cap = args.max_memory_mib * 2**20

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    process = subprocess.Popen(
        [*command, *([] if parse else ["--no-parse"])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit_memory,
    )
    try:
        out, err = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"stopped": f"still running after {args.timeout:.0f} s"}
    if process.returncode != 0:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {process.returncode}"
        if "MemoryError" in err:
            last = f"out of memory (over {args.max_memory_mib:,} MiB)"
        return {"stopped": last}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n" + __doc__.rstrip().split("\n\n")[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated")
    parser.add_argument("--size", type=int, default=LIMIT, help="bytes per file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to read with")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--max-memory-mib", type=int, default=8_192, help="address space cap")
    parser.add_argument("--json", type=Path, help="save the figures")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--no-parse", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = work(args.worker, args.size, not args.no_parse)
        result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return

    print(f"load average at the start: {os.getloadavg()}; code from {args.source}")
    print("\n| shape | bytes | median s | runs (s) | peak RSS MiB | baseline MiB | rows, skipped |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    figures = {}
    for shape in args.shapes.split(","):
        runs = [run(args, shape, args.source, parse=True) for _ in range(args.runs)]
        done = [r for r in runs if "stopped" not in r]
        baseline = run(args, shape, args.source, parse=False)
        figures[shape] = {"runs": runs, "baseline": baseline}
        if not done:
            print(f"| {shape} | {args.size:,} | — | {runs[0]['stopped']} | | | |")
            continue
        seconds = [r["seconds"] for r in done]
        print(
            f"| {shape} | {done[0]['bytes']:,} | {statistics.median(seconds):.2f} |"
            f" {', '.join(f'{s:.2f}' for s in seconds)} |"
            f" {max(r['max_rss_kib'] for r in done) / 1024:.0f} |"
            f" {baseline.get('max_rss_kib', 0) / 1024:.0f} |"
            f" {done[0]['rows']}, {done[0]['skipped']} |"
        )
    print(f"\nload average at the end: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
