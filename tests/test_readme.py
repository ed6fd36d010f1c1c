"""The README's first day, pasted as a reader pastes it: its commands run in order by bash against
a real ``givefirst serve`` on a fresh data folder, and what the README says comes out does.

Only two lines are changed before the run: the key (``KEY=gf_...``, the one this server printed)
and the address (``API=http://127.0.0.1:8000``, the free port the server listens on).
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from markdown_it import MarkdownIt

from tests.conftest import auth
from tests.helpers import ROOT, serving

README = ROOT / "README.md"
FIRST_DAY = "Your first day"
KEY_LINE = re.compile(r"^KEY=gf_\.\.\.(?=\s|$)", re.MULTILINE)
ADDRESS = "API=http://127.0.0.1:8000"
RUN_TIMEOUT_S = 300


@dataclass
class Section:
    """A ``##`` section of a Markdown file: its title and its fenced blocks by info string."""

    title: str
    blocks: list[tuple[str, str]]  # (language, text)

    def code(self, language: str) -> list[str]:
        return [text for info, text in self.blocks if info == language]


def section(markdown: str, title_start: str) -> Section:
    """The first ``##`` section whose title starts with ``title_start``, and its fenced blocks
    up to the next heading of level 2 or above."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    found: Section | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            if found is not None and level <= 2:
                break
            title = tokens[index + 1].content
            if level == 2 and title.startswith(title_start):
                found = Section(title=title, blocks=[])
        elif token.type == "fence" and found is not None:
            found.blocks.append((token.info.strip().split(" ")[0], token.content))
    assert found is not None, f'README.md has no "## {title_start}…" section'
    return found


def first_day_script(key: str, base_url: str) -> str:
    """The section's bash, with the key and the address the reader would have typed."""
    blocks = section(README.read_text(encoding="utf-8"), FIRST_DAY).code("bash")
    assert blocks, f'README.md\'s "{FIRST_DAY}" section has no ```bash block'
    script = "\n".join(blocks)
    script, keys = KEY_LINE.subn(f"KEY={key}", script)
    assert keys == 1, f"the first day should set KEY=gf_... once, not {keys} times:\n{script}"
    assert script.count(ADDRESS) == 1, f"the first day should set {ADDRESS} once:\n{script}"
    return script.replace(ADDRESS, f"API={base_url}")


def test_the_section_parser_finds_the_blocks_of_one_section_only() -> None:
    markdown = (
        "# T\n\n## Before\n\n```bash\necho no\n```\n\n## Your first day, now\n\ntext\n\n"
        "```bash\necho one\n```\n\n### Sub\n\n```text\nout\n```\n\n## After\n\n```bash\nno\n```\n"
    )
    found = section(markdown, FIRST_DAY)
    assert found.title == "Your first day, now"
    assert found.code("bash") == ["echo one\n"]
    assert found.code("text") == ["out\n"]


def test_the_first_day_works_when_pasted_in_order(data_dir: Path) -> None:
    notes = section(README.read_text(encoding="utf-8"), FIRST_DAY).code("text")
    assert len(notes) == 2, "the first day shows the article's two drafts (note, e-mail)"
    readme_note, readme_email = notes

    with serving(data_dir) as server:
        key = server.printed_key()
        assert key is not None, f"serve printed no key:\n{server.output()}"
        script = first_day_script(key, server.base_url)
        # The reader's shell: their own python3 reads the JSON (this one, which any venv has).
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIVEFIRST_")}
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**env, "PATH": path},
            cwd=data_dir.parent,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        assert result.stderr == ""

        # Printed: step 3's suggestions (pretty JSON), then step 4's two dates.
        *shown, dates = result.stdout.strip().splitlines()
        suggestions = json.loads("\n".join(shown))["items"]
        assert len(suggestions) == 1
        suggestion = suggestions[0]
        assert suggestion["kind"] == "article"
        assert suggestion["article"]["title"] == "How to choose an engagement survey vendor"
        assert suggestion["pain_point"]["text"] == (
            "Finding the right firm to run our employee engagement survey"
        )
        assert suggestion["reason"] and suggestion["matched_text"]
        # The drafts are the ones the README prints, word for word.
        assert suggestion["drafts"]["note"] == readme_note.rstrip("\n")
        assert suggestion["drafts"]["email"].rstrip("\n") == readme_email.rstrip("\n")
        assert suggestion["draft"] == suggestion["drafts"]["email"]

        # Dana was given it today, and is next due in tier A's 90 days.
        today = date.today()
        assert dates == f"{today.isoformat()} {(today + timedelta(days=90)).isoformat()}"

        # Marked sent: the suggestion is sent and a give is logged in Dana's ledger.
        contact_id = suggestion["contact_id"]
        ledger = httpx.get(
            f"{server.base_url}/contacts/{contact_id}/ledger", headers=auth(key), timeout=30
        )
        assert ledger.status_code == 200, ledger.text
        gives = ledger.json()["gives"]
        assert [(g["kind"], g["article_id"], g["suggestion_id"]) for g in gives] == [
            ("article", suggestion["article"]["id"], suggestion["id"])
        ]
        contact = httpx.get(f"{server.base_url}/contacts/{contact_id}", headers=auth(key))
        assert contact.json()["name"] == "Dana Reyes"
