"""Column labels: the kind of value and the year a label names, and header lines (the words a
column header is made of, headers broken one cell or one word per line)."""

from __future__ import annotations

import re

from .lines import DATE_TOKEN, YEAR_TOKEN


_ANY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_KIND_WORDS = [
    ("avvik", "avvikelse"),
    ("målvärde", "mål"),
    ("mål", "mål"),
    ("bokslut", "bokslut"),
    ("utfall", "utfall"),
    ("nuläge", "utfall"),
    ("prognos", "prognos"),
    ("budget", "budget"),
    ("plan", "plan"),
]


def column_kind_and_year(label: str) -> tuple[str, int | None]:
    """("Målvärde 2025") -> ("mål", 2025); ("Prognos avvik 2024") -> ("avvikelse", 2024)."""
    low = (label or "").lower()
    kind = ""
    for word, k in _KIND_WORDS:
        if re.search(r"(?<![a-zåäö])" + word, low):
            kind = k
            break
    years = _ANY_YEAR.findall(label or "")
    year = int(years[-1]) if years else None
    return kind, year


_HEADER_WORDS = {
    "mätetal", "utfall", "bokslut", "budget", "plan", "prognos", "progno", "s", "mål", "målvärde",
    "avvik", "avvi", "k", "avvikelse", "förändring", "förändrin", "g", "föränd", "ring", "mnkr",
    "%", "kommentar", "periodens", "jan-mar", "jan-", "jan-mars", "jan", "mar", "mars", "dec",
    "januari", "-", "feb", "jan-feb", "totalt", "kvinnor", "män", "summa", "läkare", "sjuk-",
    "skötersk", "or", "övriga", "yrkes-", "grupper", "över", "fakt", "ssg", "ack", "årets", "total",
    "uppräkning", "á", "å", "pris", "belopp", "i", "tkr", "kr", "kronor", "uppföljning", "av",
    "projektets", "totala", "kostnader", "investeringar", "dagar", "ny", "nuvarande",
    "ersättningsmodell", "fr", "o", "m", "t", "juli", "juni", "plan/prognos", "1", "-14", ">14",
    "miljoner", "30", "budgeterat", "tidplan",
}
_STRONG_WORDS = {
    "mätetal", "utfall", "bokslut", "budget", "plan", "prognos", "mål", "målvärde", "avvik",
    "avvikelse", "förändring", "periodens", "kommentar", "belopp", "uppräkning", "á", "å", "totalt",
    "mars", "mar", "dec", "jan-mar", "jan-feb", "januari", "ack", "årets", "total", "uppföljning",
    "ny", "nuvarande", "plan/prognos", "jan-mars",
}
STUB_RE = re.compile(r"^\s*(?:Mätetal|\(?[Bb]elopp i (?:mnkr|tkr|kr|kronor)\)?|\((?:mnkr|tkr)\))\s*", re.UNICODE)
_MONTH_WORDS = {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                "september", "oktober", "november", "december", "jan", "feb", "mar", "apr",
                "jun", "jul", "aug", "sep", "okt", "nov", "dec"}


def _header_token_ok(tok: str) -> bool:
    t = tok.lower().strip("*,")
    t2 = t.strip("().")
    return (t in _HEADER_WORDS or t2 in _HEADER_WORDS or bool(YEAR_TOKEN.match(t2))
            or bool(DATE_TOKEN.match(t2)) or bool(re.match(r"^(?:19|20)\d\d\)$", t)))


def is_header_line(text: str, strong_needed: bool) -> bool:
    toks = text.split()
    if not toks or len(toks) > 14:
        return False
    if strong_needed:
        first = text.strip()[:1]
        if not (first.isupper() or first in "(áå" or first.isdigit()):
            return False
        if re.match(r"^(Tabell|Diagram|Figur|Källa)\b", text.strip()):
            return False
        last = toks[-1].lower()
        if last.endswith(".") and last not in ("avvik.", "ack.", "ssg.", "k.", "fakt."):
            return False
    ok = sum(1 for t in toks if _header_token_ok(t))
    if ok / len(toks) < 0.75:
        return False
    if strong_needed:
        return any(t.lower().strip("*,.()") in _STRONG_WORDS for t in toks) or (
            len(toks) >= 2 and all(YEAR_TOKEN.match(t.strip("*")) for t in toks[-2:])
        ) or bool(STUB_RE.match(text))
    return True


def segment_header(fragments: list[str]) -> list[str]:
    """Column labels from header lines broken one cell (or one word) per line."""
    joined = ""
    prev_raw = None
    for raw in fragments:
        core = raw.strip()
        if not core:
            continue
        if prev_raw is not None and not prev_raw.endswith((" ", "\t")) and core[:1].islower():
            if joined.endswith("-"):
                last = re.findall(r"(\w+)-$", joined)
                if last and last[0].lower() in _MONTH_WORDS:
                    joined += core
                else:
                    joined = joined[:-1] + core
            else:
                joined += core
        else:
            joined = (joined + " " + core) if joined else core
        prev_raw = raw
    tokens = joined.split()
    labels: list[list[str]] = []
    cur: list[str] = []
    depth = 0

    def has_year(words: list[str]) -> bool:
        return any(YEAR_TOKEN.match(w.strip("*")) or DATE_TOKEN.match(w) for w in words)

    for tok in tokens:
        new = False
        if depth > 0:
            new = False
        elif YEAR_TOKEN.match(tok.strip("*")) or DATE_TOKEN.match(tok):
            new = has_year(cur) or not cur
        elif tok[:1].isupper():
            new = True
        elif tok in ("á", "å"):
            new = True
        elif tok.lower() in _MONTH_WORDS and has_year(cur):
            new = True
        elif tok[:1].isdigit() or tok[:1] == ">":
            new = True
        if new and cur:
            labels.append(cur)
            cur = []
        cur.append(tok)
        depth = max(0, depth + tok.count("(") - tok.count(")"))
    if cur:
        labels.append(cur)
    return [" ".join(words) for words in labels]


def dedupe_labels(labels: list[str]) -> list[str]:
    """A repeated label after "Årets ..." columns is this year's figure ("Årets prognos")."""
    out = list(labels)
    seen: set[str] = set()
    for i, lab in enumerate(out):
        if lab in seen:
            prev = out[i - 1] if i else ""
            out[i] = ("Årets " + lab[0].lower() + lab[1:]) if prev.startswith("Årets") else f"{lab} ({i + 1})"
        seen.add(out[i])
    return out
