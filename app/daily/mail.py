"""The digest as an e-mail a person reads: plain text and HTML made from the same list, each
suggestion's drafts ready to copy and a ``mailto:`` link with the draft filled in.

Every value from the records is HTML-escaped in the HTML part (a contact may be called
``<script>``); the plain-text part carries no Markdown syntax.
"""

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote

from app.daily.digest import KIND_LABEL, render_health
from app.daily.schemas import DailyItemPublic, DailyListPublic
from app.feeds.schemas import NewItem
from app.models import SuggestionKind
from app.network.schemas import NetworkHealth

# The draft a ``mailto:`` link fills in: the e-mail to the contact themself.
MAILTO_DRAFTS = ("email", "to_contact_email")
MAILTO_SUBJECT = {
    SuggestionKind.article: "Something that may help",
    SuggestionKind.introduction: "An introduction",
    SuggestionKind.check_in: "Checking in",
}


@dataclass(frozen=True)
class ActionLink:
    label: str
    url: str


@dataclass(frozen=True)
class MailContext:
    """What the e-mail shows beside the list: contacts' e-mail addresses, one-click links and
    what the feeds brought this week."""

    emails: Mapping[int, str] = field(default_factory=dict)  # contact id -> address
    # suggestion id -> its links; None: no public URL is set, so no links can be made
    actions: Mapping[int, Sequence[ActionLink]] | None = None
    new_items: Sequence[NewItem] = ()  # "New this week"


NO_LINKS = (
    "One-click links are unavailable (GIVEFIRST_PUBLIC_URL is not set): mark suggestions sent "
    "or dismissed in the API."
)


def _when(item: DailyItemPublic) -> str:
    if item.overdue_days > 0:
        return f"{item.overdue_days} day(s) overdue"
    return "due today" if item.overdue_days == 0 else f"due {item.due_on:%d %b}"


def _heading(item: DailyItemPublic) -> str:
    who = ", ".join(p for p in (item.contact.title, item.contact.company) if p)
    return f"{item.position}. {item.contact.name}" + (f" ({who})" if who else "")


def _what(item: DailyItemPublic) -> str:
    s = item.suggestion
    target = s.article.title if s.article else (s.introduce.name if s.introduce else "")
    return KIND_LABEL[s.kind] + (f": {target}" if target else "")


def mailto_url(item: DailyItemPublic, address: str | None) -> str | None:
    """``mailto:`` the contact, the subject and the draft filled in (percent-encoded)."""
    s = item.suggestion
    body = next((s.drafts[name] for name in MAILTO_DRAFTS if name in s.drafts), None)
    if body is None:
        return None
    subject = s.article.title if s.article else MAILTO_SUBJECT[s.kind]
    to = quote(address, safe="@") if address else ""
    return f"mailto:{to}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def _intro(daily: DailyListPublic) -> str:
    return (
        f"{len(daily.items)} of {daily.due_count} due contact(s) today (budget {daily.budget}). "
        "Send it, expect nothing back."
    )


def _title(daily: DailyListPublic) -> str:
    return f"Give first: {daily.date:%A %d %B %Y} ({daily.workspace})"


def _health_lines(health: NetworkHealth | None) -> list[str]:
    """The health section's lines without their Markdown (heading, bullets, bold)."""
    if health is None:
        return []
    lines = [line.removeprefix("- ").strip("*") for line in render_health(health)[1:]]
    return [line for line in lines if line]


def render_text(daily: DailyListPublic, health: NetworkHealth | None, context: MailContext) -> str:
    """The plain-text part: readable as it is, no Markdown."""
    lines = [_title(daily), "", _intro(daily), ""]
    if context.actions is None:
        lines += [NO_LINKS, ""]
    for item in daily.items:
        s = item.suggestion
        url = f" <{s.article.url}>" if s.article and s.article.url else ""
        lines += [
            _heading(item),
            f"Tier {item.tier}, {_when(item)}. {_what(item)}{url}",
            f"Why: {s.reason}",
            "",
        ]
        for label, draft in s.drafts.items():
            lines += [f"Draft {label.replace('_', ' ')}:", "", *draft.splitlines(), ""]
        address = context.emails.get(item.contact.id)
        lines.append(f"Write to: {address}" if address else "No e-mail address known.")
        for link in (context.actions or {}).get(s.id, ()):
            lines.append(f"{link.label}: {link.url}")
        lines.append("")
    if daily.coming_up:
        lines += ["Coming up:"]
        for day in daily.coming_up:
            lines.append(f"  {day.date:%a %d %b}: {', '.join(c.name for c in day.contacts)}")
        lines.append("")
    if context.new_items:
        lines += ["New this week, from your feeds:"]
        for new in context.new_items:
            lines.append(f"  {new.title}" + (f" <{new.url}>" if new.url else ""))
            lines += [f"    for {r.contact.name}: {r.pain_point.text}" for r in new.recipients]
        lines.append("")
    health_lines = _health_lines(health)
    if health_lines:
        lines += ["Network health:", *(f"  {line}" for line in health_lines), ""]
    return "\n".join(lines)


def _a(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def render_html(daily: DailyListPublic, health: NetworkHealth | None, context: MailContext) -> str:
    """The HTML part: every value escaped, drafts in blocks to copy, a ``mailto:`` per item."""
    e = html.escape
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">',
        f"<title>{e(_title(daily))}</title></head><body>",
        f"<h1>{e(_title(daily))}</h1>",
        f"<p>{e(_intro(daily))}</p>",
    ]
    if context.actions is None:
        parts.append(f"<p><em>{e(NO_LINKS)}</em></p>")
    for item in daily.items:
        s = item.suggestion
        what = e(_what(item))
        if s.article and s.article.url:
            what = f"{e(KIND_LABEL[s.kind])}: {_a(s.article.url, s.article.title)}"
        parts += [
            f"<h2>{e(_heading(item))}</h2>",
            f"<p>Tier {e(item.tier)}, {e(_when(item))}. <strong>{what}</strong></p>",
            f"<p>Why: {e(s.reason)}</p>",
        ]
        for label, draft in s.drafts.items():
            parts += [
                f"<p>Draft {e(label.replace('_', ' '))}:</p>",
                '<pre style="white-space: pre-wrap; border: 1px solid #ccc; padding: 8px">'
                f"{e(draft)}</pre>",
            ]
        mailto = mailto_url(item, context.emails.get(item.contact.id))
        links = [_a(mailto, f"Write to {item.contact.name}")] if mailto else []
        links += [_a(link.url, link.label) for link in (context.actions or {}).get(s.id, ())]
        if links:
            parts.append(f"<p>{' | '.join(links)}</p>")
    if daily.coming_up:
        parts.append("<h2>Coming up</h2><ul>")
        for day in daily.coming_up:
            names = ", ".join(c.name for c in day.contacts)
            parts.append(f"<li>{e(f'{day.date:%a %d %b}')}: {e(names)}</li>")
        parts.append("</ul>")
    if context.new_items:
        parts.append("<h2>New this week</h2><ul>")
        for new in context.new_items:
            title = _a(new.url, new.title) if new.url else e(new.title)
            who = "; ".join(f"for {r.contact.name}: {r.pain_point.text}" for r in new.recipients)
            parts.append(f"<li>{title}<br>{e(who)}</li>")
        parts.append("</ul>")
    health_lines = _health_lines(health)
    if health_lines:
        parts += ["<h2>Network health</h2><ul>", *(f"<li>{e(x)}</li>" for x in health_lines)]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def digest_message(
    daily: DailyListPublic,
    health: NetworkHealth | None,
    context: MailContext,
    *,
    subject: str,
    json_text: str,
    filename: str,
) -> EmailMessage:
    """The e-mail (sender and recipients left to the sender): text and HTML alternatives, dated,
    with the JSON digest attached."""
    message = EmailMessage()
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="givefirst.invalid")
    message.set_content(render_text(daily, health, context))
    message.add_alternative(render_html(daily, health, context), subtype="html")
    message.add_attachment(
        json_text.encode(), maintype="application", subtype="json", filename=filename
    )
    return message
