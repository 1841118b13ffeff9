"""Swedish numbers as the documents print them: "1 515", "4,5 %", "Över 50 %", ">500 mnkr"."""

from __future__ import annotations

import re


MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2010": "-"})
SPACES = re.compile(r"[ \u00a0\u202f\u2009\u2007]+")
_NUMBER_RE = re.compile(
    r"""^(?P<sign>[-+])?\s?
        (?P<int>\d{1,3}(?:\ \d{3})+|\d+)
        (?:(?P<sep>[,.])(?P<frac>\d+))?
        \s*(?P<unit>%|procent|kr|kronor|mnkr|mkr|tkr|st|miljoner\ kronor|mdkr)?\.?\**$""",
    re.IGNORECASE | re.VERBOSE,
)


def parse_number(text: str) -> float | None:
    """Parse a Swedish number: "4,5" -> 4.5, "1 515" -> 1515, "−12,3" -> -12.3, "12 %" -> 12.

    A space (also a no-break space) is a thousands separator, the comma is the decimal sign,
    a dot followed by exactly three digits is a thousands separator ("300.000"), and a unit
    after the number (%, procent, kr, mnkr, tkr, st) is allowed. Anything else gives None.
    """
    if not isinstance(text, str):
        return None
    t = SPACES.sub(" ", text.translate(MINUS)).strip()
    if not t or len(t) > 40:
        return None
    m = _NUMBER_RE.match(t)
    if not m:
        return None
    digits = m.group("int").replace(" ", "")
    frac = m.group("frac")
    if m.group("sep") == "." and frac and len(frac) == 3 and " " not in m.group("int"):
        digits, frac = digits + frac, None  # "300.000" = 300 000
    value = float(digits + ("." + frac if frac else ""))
    return -value if m.group("sign") == "-" else value


QUALIFIERS = {
    "över": "minst", "minst": "minst", "lägst": "minst", "min": "minst", ">": "minst", "≥": "minst",
    ">=": "minst", "under": "max", "max": "max", "högst": "max", "<": "max", "≤": "max", "<=": "max",
    "ca": "", "cirka": "", "ungefär": "",
}
_LEADING_NUMBER = re.compile(
    r"^(?P<num>[-+]?\s?\d{1,3}(?:[ \u00a0]\d{3})+(?:[,.]\d+)?|[-+]?\s?\d+(?:[,.]\d+)?)"
    r"(?:\s*(?P<unit>%|procent|mnkr|mkr|tkr|kr|kronor|st|ton|kw|kilo)\b|\s*(?P<pct>%))?",
    re.IGNORECASE,
)


def _unit_word(word: str | None) -> str:
    if not word:
        return ""
    w = word.lower()
    return {"procent": "%", "mkr": "mnkr", "kronor": "kr", "kw": "kW"}.get(w, w)


def parse_cell_value(text: str) -> tuple[float | None, str, str]:
    """Value, comparator and unit of a table cell as printed.

    "Över 50 %" -> (50, "minst", "%"), ">500 mnkr" -> (500, "minst", "mnkr"), "4 600 st" ->
    (4600, "", "st"), "32% (2%)" -> (32, "", "%"), "-" / "Ökande trend" / "N/A" -> (None, "", "").
    """
    t = SPACES.sub(" ", (text or "").translate(MINUS)).strip()
    if not t:
        return None, "", ""
    comparator = ""
    low = t.lower()
    for q in sorted(QUALIFIERS, key=len, reverse=True):
        if low.startswith(q) and (not q[0].isalpha() or len(low) == len(q) or not low[len(q)].isalpha()):
            comparator = QUALIFIERS[q]
            t = t[len(q):].strip()
            break
    m = _LEADING_NUMBER.match(t)
    if not m:
        return None, "", ""
    rest = t[m.end():].strip()
    # "5 Mkr/2025" is fine, "2025-2027" (a period) or "1C" is not a value
    if rest and (rest[0].isalnum() and not m.group("unit")) and not rest.startswith("("):
        if not re.match(r"^(mnkr|mkr|tkr|kr|st|ton|kw)\b", rest, re.IGNORECASE):
            return None, "", ""
    if rest.startswith("-") and re.match(r"^-\d", rest):
        return None, "", ""
    value = parse_number(m.group("num"))
    unit = _unit_word(m.group("unit")) or ("%" if m.group("pct") else "")
    if not unit and rest:
        um = re.match(r"^(mnkr|mkr|tkr|kr|st)\b", rest, re.IGNORECASE)
        unit = _unit_word(um.group(1)) if um else ""
    return value, comparator, unit
