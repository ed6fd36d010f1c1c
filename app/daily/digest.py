"""The day's digest: Markdown for a person, JSON for programs. Both come from the same
``DailyListPublic`` the API returns, so a program reading the JSON sees what GET /daily shows."""

import os
import re
from collections.abc import Sequence
from pathlib import Path

from app.daily.schemas import DailyListPublic
from app.feeds.schemas import NewItem
from app.models import SuggestionKind
from app.network.schemas import NetworkHealth

KIND_LABEL = {
    SuggestionKind.article: "Send an article",
    SuggestionKind.introduction: "Introduce",
    SuggestionKind.check_in: "Check in",
}


def render_markdown(
    daily: DailyListPublic,
    health: NetworkHealth | None = None,
    new_items: Sequence[NewItem] = (),
) -> str:
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
    if new_items:
        lines += render_new_items(new_items)
    if health is not None:
        lines += render_health(health)
    return "\n".join(lines)


def render_new_items(new_items: Sequence[NewItem]) -> list[str]:
    """The digest's "New this week" section: what the feeds brought, for whom and why."""
    lines = ["## New this week", "", "From your feeds, for whoever it would help:", ""]
    for item in new_items:
        title = f"[{item.title}]({item.url})" if item.url else item.title
        lines.append(f"- {title}")
        for r in item.recipients:
            lines.append(
                f"  - for {r.contact.name}, who mentioned “{r.pain_point.text}”: “{r.matched_text}”"
            )
    return [*lines, ""]


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def render_health(health: NetworkHealth) -> list[str]:
    """The digest's "Network health" section: the headline figures and the warning."""
    cadence, neglect, giving = health.cadence.overall, health.neglect, health.giving
    tiers = ", ".join(f"{t.tier} {_percent(t.share_in_cadence)}" for t in health.cadence.tiers)
    weeks_ago = health.cadence.history[0]
    fields = ", ".join(f"{b.name} {_percent(b.share)}" for b in health.spread.fields.buckets[:3])
    lines = [
        "## Network health",
        "",
        f"- In cadence: {_percent(cadence.share_in_cadence)} ({cadence.in_cadence} of "
        f"{cadence.contacts}; {tiers}); {_percent(weeks_ago.share_in_cadence)} on "
        f"{weeks_ago.week_ending:%d %b}.",
        f"- Overdue: {cadence.overdue}"
        + (
            f" (median {cadence.overdue_days_median:g} days, worst {cadence.overdue_days_worst})"
            if cadence.overdue
            else ""
        )
        + f"; never contacted: {cadence.never_contacted}.",
        f"- Next {neglect.horizon_days} days: {neglect.falling_due} fall due; at your pace "
        f"({neglect.pace_per_horizon:g} touches per {neglect.horizon_days} days) "
        f"{neglect.would_fall_out} fall out of cadence.",
        f"- Last 90 days: {giving.gives_last_90_days} give(s), {giving.asks_last_90_days} ask(s); "
        f"{_percent(giving.share_given_to)} of contacts have had a give"
        + (
            f"; asked more than given: {', '.join(t.name for t in giving.taker_contacts)}."
            if giving.takers
            else "."
        ),
        f"- Fields: {fields or 'none known'} (HHI {health.spread.fields.hhi or 0:.2f}).",
    ]
    suggestions = health.suggestions
    if suggestions.reconnect_first:
        names = ", ".join(c.name for c in suggestions.reconnect_first_contacts)
        lines.append(f"- Reconnect first: {names}.")
    if suggestions.tier_a_without_gift:
        names = ", ".join(c.name for c in suggestions.tier_a_without_gift_contacts)
        lines.append(f"- Tier A without a gift in a year: {names}.")
    if health.spread.warning:
        lines += ["", f"**{health.spread.warning}**"]
    return [*lines, ""]


def render_json(daily: DailyListPublic) -> str:
    return daily.model_dump_json(indent=2)


def slug(name: str) -> str:
    """A workspace name made safe for a file name (not unique: see ``folder_name``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "workspace"


def folder_name(workspace_id: int, name: str) -> str:
    """The workspace's digest folder, ``<id>-<slug>``: the slug to read, the id to keep it apart.

    Slugs collide ("team a", "team/a" and "team?a" are all ``team-a``; "Team" and "team" are one
    folder where file names ignore case); the id never does, so no workspace writes into
    another's folder.
    """
    return f"{workspace_id}-{slug(name)}"


def write_digest(
    daily: DailyListPublic,
    out_dir: Path,
    workspace_id: int,
    health: NetworkHealth | None = None,
    new_items: Sequence[NewItem] = (),
) -> tuple[Path, Path]:
    """Write ``<out>/<id>-<workspace>/<date>.md`` and ``.json``, each whole or not at all; the
    Markdown ends with what the feeds brought this week and the network's health (the JSON stays
    the document GET /daily returns)."""
    folder = out_dir / folder_name(workspace_id, daily.workspace)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    markdown = render_markdown(daily, health, new_items)
    for suffix, text in ((".md", markdown), (".json", render_json(daily))):
        path = folder / f"{daily.date.isoformat()}{suffix}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        paths.append(path)
    return paths[0], paths[1]
