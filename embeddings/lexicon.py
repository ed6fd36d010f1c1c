"""Insider shorthand in a pain point, spelled out before it is searched.

People say "our CHRO", "a RIF", "we have to lay off 40 people"; articles write "chief human
resources officer", "reduction in force", "layoffs". Neither half of the search bridges that on its
own: BM25 sees no shared word, and the small embedding model has seldom met the abbreviation. So a
pain point's searched text gets the long form in brackets after the short one ("our CHRO (chief
human resources officer)"), for both the model and the keywords. Only the search sees it: a
draft quotes the contact's own words.

Articles are not expanded: they spell things out already, and their stored vectors and keyword
weights would need a reindex for every change here.

The table is small on purpose: shorthand that is common in the people and business talk the
product serves and that means one thing there. Ambiguous short forms ("CPO": people or product?
"EVP": value proposition or vice president?) are left alone.
"""

import re
from collections.abc import Iterable

# (short form, long form). An all-capitals short form matches in capitals only, with an optional
# plural "s" ("PIPs"); any other matches in any case.
SHORTHAND: tuple[tuple[str, str], ...] = (
    ("HR", "human resources"),
    ("CHRO", "chief human resources officer"),
    ("HRBP", "HR business partner"),
    ("HRIS", "HR information system"),
    ("HCM", "human capital management"),
    ("ATS", "applicant tracking system"),
    ("TA", "talent acquisition recruiting"),
    ("PIP", "performance improvement plan"),
    ("RIF", "reduction in force layoff"),
    ("WARN", "WARN Act layoff notice"),
    ("L&D", "learning and development training"),
    ("D&I", "diversity and inclusion"),
    ("DEI", "diversity equity and inclusion"),
    ("DE&I", "diversity equity and inclusion"),
    ("ERG", "employee resource group"),
    ("EAP", "employee assistance program"),
    ("eNPS", "employee net promoter score"),
    ("OKR", "objectives and key results goals"),
    ("KPI", "key performance indicator metrics"),
    ("1:1", "one-on-one meeting"),
    ("1:1s", "one-on-one meetings"),
    ("1on1", "one-on-one meeting"),
    ("PTO", "paid time off"),
    ("OE", "open enrollment benefits"),
    ("FMLA", "Family and Medical Leave Act"),
    ("ADA", "Americans with Disabilities Act accommodation"),
    ("PEO", "professional employer organization"),
    ("COBRA", "COBRA health coverage continuation"),
    ("RTO", "return to office"),
    ("WFH", "work from home remote"),
    ("M&A", "mergers and acquisitions"),
    ("SVP", "senior vice president"),
    ("VP", "vice president"),
    ("comp", "compensation"),
    ("perf", "performance"),
    ("req", "job requisition"),
    ("reqs", "job requisitions"),
    ("onboard", "onboarding"),
    ("offboard", "offboarding"),
    ("lay off", "layoff"),
    ("lay offs", "layoffs"),
    ("laid off", "layoff"),
    ("laying off", "layoff"),
    ("let them go", "layoff"),
    ("let someone go", "termination firing"),
    ("let him go", "termination firing"),
    ("let her go", "termination firing"),
    ("let people go", "layoff"),
    ("sign on", "sign-on"),
    ("check in", "check-in"),
    ("401k", "401(k) retirement plan"),
)


def _pattern(entries: Iterable[tuple[str, str]]) -> re.Pattern[str]:
    alternatives = []
    for short, _ in sorted(entries, key=lambda entry: -len(entry[0])):
        body = r"\s+".join(re.escape(word) for word in short.split())
        if short.isupper() or any(c.isupper() for c in short[1:]):
            alternatives.append(rf"(?-i:{body}s?)")
        else:
            alternatives.append(body)
    return re.compile(r"(?<![\w&:])(?i:" + "|".join(alternatives) + r")(?![\w&:])")


_LONG = {short.lower(): long for short, long in SHORTHAND}
_MATCH = _pattern(SHORTHAND)


def _long_form(found: str) -> str:
    key = " ".join(found.split()).lower()
    if key in _LONG:
        return _LONG[key]
    return _LONG[key.removesuffix("s")]  # a plural of a capitals form: "PIPs"


def spell_out(text: str) -> str:
    """``text`` with each known short form followed by its long form in brackets."""
    return _MATCH.sub(lambda m: f"{m.group(0)} ({_long_form(m.group(0))})", text)
