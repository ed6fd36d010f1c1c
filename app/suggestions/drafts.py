"""Draft messages, written as gifts: what it is and why it made you think of them. No ask.

The seeds are plain about it: send the helpful thing and expect nothing back. So a draft never
asks for a reply, a meeting, a job lead, a referral or a favour; it asks no question of the
contact and says so ("no need to reply"). Each draft comes in two lengths: a one-line ``note``
(the seeds: a one-line note is enough) and a short ``email`` (which ends with the workspace's
signature, added when shown).

A pain point is written as the contact said it ("Our CHRO just quit"); a draft speaks of it to
the contact in the second person ("you mentioned your CHRO just quit"), or quotes the contact's
own words when turning them would read badly (a question, a list, several sentences, a URL...).
"""

import re
from dataclasses import dataclass

from app.models import Article, Contact

NO_REPLY = "No need to reply."

# Stored drafts of older versions had one e-mail-length draft per person.
LEGACY_KEYS = {
    "draft": "email",
    "to_contact": "to_contact_email",
    "to_introduced": "to_introduced_email",
}


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def first_name(contact: Contact) -> str:
    return contact.name.split()[0] if contact.name.split() else contact.name


# --- the contact's need, in the second person -----------------------------------------------

# First person -> second person, longest first so that "I am" wins over "I". Verb agreement is
# only needed after "I" ("I am" -> "you are", "I was" -> "you were"); "we" takes the same verbs.
_TURNS = {
    "i am": "you are",
    "i was": "you were",
    "i wasn't": "you weren't",
    "i have": "you have",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "we're": "you're",
    "we've": "you've",
    "we'd": "you'd",
    "we'll": "you'll",
    "ourselves": "yourselves",
    "myself": "yourself",
    "ours": "yours",
    "mine": "yours",
    "our": "your",
    "my": "your",
    "we": "you",
    "us": "you",
    "me": "you",
    "i": "you",
}
_TURN_PATTERN = re.compile(
    r"(?<![\w'])("
    + "|".join(re.escape(k) for k in sorted(_TURNS, key=len, reverse=True))
    + r")(?![\w']|\.\w)",  # not the "i" of "i.e."
    re.IGNORECASE,
)
_CURLY_APOSTROPHE = "\u2019"
_DETERMINERS = frozenset({"a", "an", "the", "this", "that", "your", "their", "his", "her", "its"})


def _not_a_pronoun(match: re.Match[str]) -> bool:
    """Whether the word matched is no pronoun here: "US" in capitals (the country), or "mine"
    after an article ("the mine")."""
    word, before = match.group(), match.string[: match.start()].split()
    return word == "US" or (
        word.lower() == "mine" and bool(before) and before[-1].lower() in _DETERMINERS
    )


def turn_pronouns(text: str) -> str:
    """``text`` with the first person turned to the second, whole words only.

    we/us/I/me -> you, our/my -> your, ours/mine -> yours, myself -> yourself, ourselves ->
    yourselves, I'm/we're -> you're, I've/we've -> you've, I'd/we'd -> you'd, I'll/we'll ->
    you'll, and the verbs that change with the subject: I am -> you are, I was -> you were.
    "US" in capitals and "mine" after an article are left alone.
    """

    def turned(match: re.Match[str]) -> str:
        word = match.group()
        if _not_a_pronoun(match):
            return word
        key = re.sub(r"\s+", " ", word.lower())
        replacement = _TURNS[key]
        starts_sentence = match.start() == 0
        return replacement.capitalize() if starts_sentence else replacement

    return _TURN_PATTERN.sub(turned, text.replace(_CURLY_APOSTROPHE, "'"))


_FIRST_PERSON_LEFT = re.compile(r"(?<![\w'])(i|we|our|ours|us|my|me|mine)(?![\w]|\.\w)", re.I)
_SECOND_PERSON = re.compile(
    r"(?<![\w'])(you|your|yours|yourself|yourselves|y'all|u)(?![\w'])", re.I
)
_URL = re.compile(r"https?://|www\.", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "inc", "ltd", "co", "approx", "dept", "no"})
# Openings that make a question or a request even without a "?": quoted, not turned.
_ASKING_OPENINGS = _word_set(
    "anyone any does do did is are can could should would will how what why who which where "
    "help please"
)


def _sentences(text: str) -> int:
    """How many sentences ``text`` holds ("e.g.", "U.S." and the like do not end one)."""
    count = 1
    for match in re.finditer(r"([\w.]*)[.!?]+\s+(?=\S)", text):
        word = match.group(1).lower()
        if word not in _ABBREVIATIONS and "." not in word and len(word) > 1:
            count += 1
    return count


def _shouted(text: str) -> bool:
    """All in capitals, and more than an acronym ("CHRO" is an acronym, "WE NEED HELP" shouts)."""
    letters = [c for c in text if c.isalpha()]
    words = re.findall(r"[A-Za-z]{2,}", text)
    return (
        bool(letters) and all(c.isupper() for c in letters) and (len(words) > 1 or len(letters) > 5)
    )


def reads_badly_turned(text: str) -> bool:
    """Whether the contact's words should be quoted rather than turned into "you ...": a
    question, a list, several sentences, a URL, all capitals, or a "you" already there."""
    words = re.findall(r"[\w']+", text.lower())
    return (
        "?" in text
        or any(_LIST_ITEM.match(line) for line in text.splitlines())
        or len([line for line in text.splitlines() if line.strip()]) > 1
        or ";" in text
        or bool(_SECOND_PERSON.search(text))
        or bool(_URL.search(text))
        or _shouted(text)
        or _sentences(text) > 1
        or (len(words) > 1 and words[0] in _ASKING_OPENINGS)
    )


# A fragment without a subject gets one: "Need salary ranges" -> "you need salary ranges",
# "Struggling to hire" -> "you're struggling to hire", "No successors" -> "you have no successors".
_VERB_OPENINGS = {
    "need": "you need",
    "needs": "you need",
    "want": "you want",
    "wants": "you want",
    "have": "you have",
    "has": "you have",
    "lack": "you lack",
    "lacks": "you lack",
    "cannot": "you cannot",
    "can't": "you can't",
    "cant": "you can't",
    "don't": "you don't",
    "dont": "you don't",
    "must": "you must",
    "keep": "you keep",
    "spend": "you spend",
    "got": "you've got",
    "no": "you have no",
}
_STATE_OPENINGS = _word_set(
    "unsure under not stuck short behind worried concerned about overwhelmed tired frustrated "
    "swamped desperate buried burned burnt new still always constantly currently"
)
# A word of these after an "-ing" opening makes it the subject: "Planning is a mess".
_FINITE_VERBS = _word_set(
    "is are was were isn't aren't wasn't weren't has hasn't have haven't had takes took keeps "
    "kept feels seems gets got costs cost needs doesn't don't didn't won't can't cannot will "
    "would eats drags fails failed stalled went goes makes"
)
# "-ing" openings that say what the contact is going through: "you're struggling to hire". Others
# name a task and read as one: "you mentioned hiring analysts", not "you're hiring analysts".
_ONGOING = _word_set(
    "struggling trying planning thinking looking leading losing dealing facing drowning moving "
    "rolling working juggling fighting waiting battling preparing going considering scrambling "
    "launching starting running"
)


# Openings that only colour the sentence ("Honestly, our onboarding is a mess").
_FILLERS = re.compile(r"^(?:honestly|frankly|basically|so|well|ugh|tbh|ok|okay)\b,?\s+", re.I)


def _with_subject(phrase: str) -> str:
    """A subject for a fragment without one; "your team and you" -> "you and your team"."""
    phrase = re.sub(
        r"^[Yy]our (\w+) and you\b", lambda m: f"you and your {m[1]}", _FILLERS.sub("", phrase)
    )
    words = phrase.split()
    if len(words) < 2:
        return phrase  # one word is a topic: "you mentioned burnout"
    first, rest = words[0].lower(), [w.lower() for w in words[1:]]
    if first == "no" and rest[0] in {"one", "body"}:
        return phrase
    if first in _VERB_OPENINGS:
        return f"{_VERB_OPENINGS[first]} {' '.join(words[1:])}"
    if first in _STATE_OPENINGS:
        return f"you're {first} {' '.join(words[1:])}"
    if first in _ONGOING and not _FINITE_VERBS & {w.strip(",.") for w in rest}:
        return f"you're {first} {' '.join(words[1:])}"
    return phrase


def _trimmed(text: str, limit: int) -> str:
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def _lower_first(phrase: str) -> str:
    """Lower-case the first letter, unless it starts an acronym such as "HRIS"."""
    return phrase if phrase[:2].isupper() else phrase[:1].lower() + phrase[1:]


@dataclass(frozen=True)
class Need:
    """A contact's pain point as a draft says it: turned to "you", or their words quoted."""

    text: str
    quoted: bool


def in_second_person(pain_point: str, limit: int = 160) -> str | None:
    """The pain point turned to the second person, as a phrase to follow "you mentioned"
    (no final full stop); None when it reads better quoted."""
    text = " ".join(pain_point.replace(_CURLY_APOSTROPHE, "'").split()).rstrip(".!;: ")
    if not text or reads_badly_turned(pain_point.strip()):
        return None
    phrase = _with_subject(turn_pronouns(text))
    if any(not _not_a_pronoun(m) for m in _FIRST_PERSON_LEFT.finditer(phrase)):
        return None  # a first-person form the turning does not know ("I'ma")
    return _trimmed(_lower_first(phrase), limit)


def _quoted(pain_point: str, limit: int) -> str:
    """The contact's words on one line: list items joined, a full stop if none ends it."""
    parts: list[str] = []
    for line in pain_point.splitlines():
        item = " ".join(_LIST_ITEM.sub("", line).split())
        if item:
            join = " " if not parts or parts[-1].endswith(":") else "; "
            parts.append(("" if not parts else join) + item)
    text = _trimmed("".join(parts).replace("“", "\u2018").replace("”", "\u2019"), limit)
    if text.endswith((".", "?", "!", "…")) or _URL.search(text.rsplit(" ", 1)[-1]):
        return text  # a full stop after a URL would become part of it
    return text + "."


def their_need(pain_point: str, limit: int = 160) -> Need:
    turned = in_second_person(pain_point, limit)
    if turned is not None:
        return Need(turned, quoted=False)
    return Need(_quoted(pain_point, limit), quoted=True)


def you_mentioned(pain_point: str) -> str:
    """A sentence ending on the contact's need: 'you mentioned X.' or 'you said: “X.”'."""
    need = their_need(pain_point)
    return f"you said: “{need.text}”" if need.quoted else f"you mentioned {need.text}."


# --- the drafts ---------------------------------------------------------------------------


def _summary_sentence(article: Article) -> str | None:
    """The first sentence of the article's summary, as why it may help (never a question)."""
    summary = " ".join((article.summary or "").split())
    first = re.split(r"(?<=[.!])\s+", summary, maxsplit=1)[0]
    if not first or "?" in first:
        return None
    first = _trimmed(first, 220)
    return first if first.endswith((".", "!", "…")) else first + "."


def article_drafts(contact: Contact, article: Article, pain_point: str) -> dict[str, str]:
    """A one-line note and a short e-mail that name the article, why it may help, and its link."""
    name, mention = first_name(contact), you_mentioned(pain_point)
    link = f": {article.url}" if article.url else "."
    why = _summary_sentence(article)
    note = f"{name}, {mention} “{article.title}” may help{link} {NO_REPLY}"
    email = (
        f"Hi {name},\n\n"
        f"When we last spoke, {mention} I came across “{article.title}” and thought it may help "
        "with that."
        + (f" In short: {why}" if why else "")
        + "\n\n"
        + (f"{article.url}\n\n" if article.url else "")
        + f"{NO_REPLY} I hope it's useful.\n"
    )
    return {"note": note, "email": email}


def introduction_drafts(
    contact: Contact, other: Contact, pain_point: str, expertise: str
) -> dict[str, str]:
    """A double opt-in introduction: one note and one e-mail to each person, sent before
    connecting them. Neither draft names the other person: each side hears only what the other
    can help with or needs help with, and nothing is passed on until both want it."""
    skill = " ".join(expertise.split()).rstrip(".!?;: ")
    skill = _trimmed(_lower_first(skill), 160) if skill else "this"
    name, other_name = first_name(contact), first_name(other)
    both_agree = (
        "I only connect two people when both want it, so nobody's details are passed on "
        "before then."
    )
    return {
        "to_contact_note": (
            f"{name}, I know someone who knows this ground well ({skill}). If an introduction "
            "would help, reply and I'll check with them; if not, no need to answer."
        ),
        "to_contact_email": (
            f"Hi {name},\n\n"
            f"When we last spoke, {you_mentioned(pain_point)} I know someone who knows this "
            f"ground well: {skill}.\n\n"
            f"If an introduction would help, reply and I'll check with them first. {both_agree} "
            "If not, no need to answer.\n"
        ),
        "to_introduced_note": (
            f"{other_name}, someone in my network is working through something you know well "
            f"({skill}). If you're open to an introduction, reply and I'll tell you more; if "
            "not, no need to answer."
        ),
        "to_introduced_email": (
            f"Hi {other_name},\n\n"
            "Someone in my network is working through something you know well: "
            f"{skill}. I think your experience could make a real difference to them.\n\n"
            f"If you're open to an introduction, reply and I'll tell you more. {both_agree} "
            "If not, no need to answer; it's entirely fine to pass.\n"
        ),
    }


def check_in_drafts(contact: Contact, stale_pain_point: str | None = None) -> dict[str, str]:
    """A note and an e-mail that give attention and ask nothing: no question, no request."""
    name = first_name(contact)
    if stale_pain_point:
        note = f"{name}, you came to mind today; I hope things have eased since we last spoke. "
        opener = (
            f"When we last spoke, {you_mentioned(stale_pain_point)} You came to mind today, "
            "and I hope things have eased since."
        )
    else:
        note = f"{name}, you came to mind today, and I wanted to wish you well. "
        opener = "You came to mind today, and I wanted to say hello and wish you well."
    return {
        "note": note + NO_REPLY,
        "email": f"Hi {name},\n\n{opener}\n\n{NO_REPLY}\n",
    }


# --- as shown ----------------------------------------------------------------------------


def as_shown(stored: dict[str, str], signature: str | None) -> dict[str, str]:
    """Stored drafts as the API shows them: older keys renamed, e-mails signed."""
    shown = {LEGACY_KEYS.get(key, key): text for key, text in stored.items()}
    if signature:
        for key, text in shown.items():
            if key.endswith("email"):
                shown[key] = f"{text.rstrip()}\n\n{signature}\n"
    return shown
