"""The day's digest: Markdown for a person, JSON for programs. Both come from the same
``DailyListPublic`` the API returns, so a program reading the JSON sees what GET /daily shows."""

import os
import re
from pathlib import Path

from app.daily.schemas import DailyListPublic

KIND_LABEL = {"article": "Send an article", "introduction": "Introduce", "check_in": "Check in"}


def render_markdown(daily: DailyListPublic) -> str:
    lines = [
        f"# Give first: {daily.date:%A %d %B %Y} ({daily.workspace})",
        "",
        f"{len(daily.items)} of {daily.due_count} due contact(s) today (budget {daily.budget}). "
        "Send it, expect nothing back.",
        "",
    ]
    for item in daily.items:
        s = item.suggestion
        who = ", ".join(p for p in (item.contact.title, item.contact.company) if p)
        late = (
            f"{item.overdue_days} day(s) overdue"
            if item.overdue_days > 0
            else ("due today" if item.overdue_days == 0 else f"due {item.due_on:%d %b}")
        )
        lines += [
            f"## {item.position}. {item.contact.name}" + (f" ({who})" if who else ""),
            "",
            f"Tier {item.tier}, {late}. **{KIND_LABEL[s.kind]}**"
            + (f": [{s.article.title}]({s.article.url})" if s.article and s.article.url else "")
            + (f": {s.article.title}" if s.article and not s.article.url else "")
            + (f": {s.introduce.name}" if s.introduce else ""),
            "",
            f"Why: {s.reason}",
            "",
        ]
        for label, draft in s.drafts.items():
            heading = f"Draft {label.replace('_', ' ')}"
            lines += [f"{heading}:", "", *[f"> {line}" for line in draft.splitlines()], ""]
        lines += [f"Suggestion {s.id}: mark it sent or dismissed in the API.", ""]
    if daily.coming_up:
        lines += ["## Coming up", ""]
        for day in daily.coming_up:
            names = ", ".join(c.name for c in day.contacts)
            lines.append(f"- {day.date:%a %d %b}: {names}")
        lines.append("")
    return "\n".join(lines)


def render_json(daily: DailyListPublic) -> str:
    return daily.model_dump_json(indent=2)


def slug(name: str) -> str:
    """A folder name for a workspace name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "workspace"


def write_digest(daily: DailyListPublic, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<out>/<workspace>/<date>.md`` and ``.json``, each whole or not at all."""
    folder = out_dir / slug(daily.workspace)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in ((".md", render_markdown(daily)), (".json", render_json(daily))):
        path = folder / f"{daily.date.isoformat()}{suffix}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        paths.append(path)
    return paths[0], paths[1]
