"""Draft messages, written as gifts: what it is and why it made you think of them. No ask.

The seeds are plain about it: send the helpful thing and expect nothing back. So a draft never
asks for a reply, a meeting, a job lead, a referral or a favour, and says so ("no need to reply").
"""

from app.models import Article, Contact


def first_name(contact: Contact) -> str:
    return contact.name.split()[0] if contact.name.split() else contact.name


def _about(text: str, limit: int = 140) -> str:
    """A pain point as a phrase inside a sentence: trimmed, no final full stop."""
    phrase = " ".join(text.split()).rstrip(".!?;: ")
    if len(phrase) > limit:
        phrase = phrase[: limit - 1].rsplit(" ", 1)[0] + "…"
    if not phrase[:2].isupper():  # keep acronyms such as "HRIS" as they are
        phrase = phrase[:1].lower() + phrase[1:]
    return phrase


def _who(contact: Contact) -> str:
    role = ", ".join(part for part in (contact.title, contact.company) if part)
    return f"{contact.name} ({role})" if role else contact.name


def article_draft(contact: Contact, article: Article, pain_point: str) -> str:
    link = f"\n{article.url}" if article.url else ""
    return (
        f"Hi {first_name(contact)},\n\n"
        f'When we spoke you mentioned {_about(pain_point)}. I came across "{article.title}" '
        f"and thought of you straight away.{link}\n\n"
        "Hope it's useful. No need to reply.\n"
    )


def introduction_drafts(
    contact: Contact, other: Contact, pain_point: str, expertise: str
) -> dict[str, str]:
    """Two drafts for a double opt-in introduction: one to each person, before connecting them."""
    to_contact = (
        f"Hi {first_name(contact)},\n\n"
        f"You mentioned {_about(pain_point)}. {_who(other)} knows this ground well: "
        f"{_about(expertise)}. If an introduction would be useful to you, I'm happy to make one, "
        "and if not, no problem at all.\n"
    )
    to_other = (
        f"Hi {first_name(other)},\n\n"
        f"I know {_who(contact)}, who is working on {_about(pain_point)}. Given your experience "
        f"with {_about(expertise)}, I think you two would enjoy comparing notes. I'll only "
        "connect you if you both like the idea, and it's entirely fine to pass.\n"
    )
    return {"to_contact": to_contact, "to_introduced": to_other}


def check_in_draft(contact: Contact, stale_pain_point: str | None = None) -> str:
    if stale_pain_point:
        opener = (
            f"Last time we talked, you were dealing with {_about(stale_pain_point)}. "
            "I hope that has worked out."
        )
    else:
        opener = "It's been a while, and you came to mind today."
    return (
        f"Hi {first_name(contact)},\n\n{opener} What are you working on these days? "
        "I'd love to hear what's new, whenever suits you.\n"
    )
