"""Value tokens of a space-separated row and how they fill the columns.

A space separates the values of a row and is also the thousands separator ("1 515 2 000 2 500" under
three columns is three values); runs of blanks mark dropped empty cells. `fit_row` chooses the reading
that fits the column count best; where a dropped cell had to be placed from the spacing, or two readings
tie, the cells are marked uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import MINUS


@dataclass
class Tok:
    text: str
    start: int
    end: int
    gap: int  # blanks before the token


_NUM_TOKEN = re.compile(r"^[-+]?\d+(?:[,.]\d+)?%?\**$")
_TAIL_TOKEN = re.compile(r"^\d{3}(?:,\d+)?%?\**$")
_HEAD_TOKEN = re.compile(r"^[-+]?\d{1,3}$")
_QUALIFIER_WORDS = {"över", "under", "minst", "max", "högst", "ca", "cirka"}


def tokenize(line: str) -> list[Tok]:
    toks = []
    prev_end = 0
    for m in re.finditer(r"\S+", line):
        toks.append(Tok(m.group(0), m.start(), m.end(), m.start() - prev_end))
        prev_end = m.end()
    return toks


def merge_value_tokens(toks: list[Tok]) -> list[Tok]:
    """"63" "%" -> "63 %"; "Över" "50 %" -> "Över 50 %"; "−" normalised."""
    out: list[Tok] = []
    for t in toks:
        text = t.text.translate(MINUS)
        if text == "%" and out and _NUM_TOKEN.match(out[-1].text.rstrip("%")) and t.gap == 1 \
                and not out[-1].text.endswith("%"):
            out[-1] = Tok(out[-1].text + " %", out[-1].start, t.end, out[-1].gap)
            continue
        out.append(Tok(text, t.start, t.end, t.gap))
    merged: list[Tok] = []
    i = 0
    while i < len(out):
        t = out[i]
        if t.text.lower() in _QUALIFIER_WORDS and i + 1 < len(out) and _NUM_TOKEN.match(
                out[i + 1].text.split(" ")[0]) and out[i + 1].gap == 1:
            n = out[i + 1]
            merged.append(Tok(t.text + " " + n.text, t.start, n.end, t.gap))
            i += 2
            continue
        merged.append(t)
        i += 1
    return merged


def tok_kind(text: str) -> str:
    core = text.split(" ", 1)
    if len(core) == 2 and core[0].lower() in _QUALIFIER_WORDS:
        return "num" if _NUM_TOKEN.match(core[1].replace(" %", "%")) else ""
    t = text.replace(" %", "%")
    if t in ("-", "–"):
        return "dash"
    if t.startswith(">") and _NUM_TOKEN.match(t[1:]):
        return "num"
    if _NUM_TOKEN.match(t):
        return "num"
    return ""


@dataclass
class Cand:
    cost: float
    slots: list[str | None]  # per column: value text or None (empty)
    uncertain: bool
    start: int  # index of the first value token


def _segmentations(toks: list[Tok], lo: int, limit: int = 4000):
    """All ways to group toks[lo:] into numbers (with space thousands groups) or empty markers.

    Returns [(groups, penalty, sign_attached)], a group being a list of token indices.
    Penalties prefer readings without implausible numbers: a three-digit head with a
    thousands group ("471 500") costs 4, two thousands groups (millions) cost 10, a
    detached minus sign ("- 6 853") costs 1.
    """
    n = len(toks)
    results: list[tuple[list[list[int]], float, bool]] = []

    def plain(i: int) -> str:
        return toks[i].text.replace(" %", "%")

    def rec(i: int, groups: list[list[int]], pen: float, signed: bool) -> None:
        if len(results) >= limit:
            return
        if i == n:
            results.append(([g[:] for g in groups], pen, signed))
            return
        kind = tok_kind(toks[i].text)
        if kind == "dash":
            groups.append([i])
            rec(i + 1, groups, pen, signed)
            groups.pop()
            if i + 1 < n and toks[i + 1].gap == 1 and _HEAD_TOKEN.match(plain(i + 1)) \
                    and not plain(i + 1).startswith(("-", "+")):
                chain(i, i + 1, [i, i + 1], groups, pen + 1.0, True)
            return
        if kind != "num":
            return
        if re.match(r"^0\d", plain(i)):
            return  # "069" cannot start a number
        chain(i, i, [i], groups, pen, signed)

    def chain(first: int, head: int, members: list[int], groups, pen: float, signed: bool) -> None:
        tails = len(members) - (head - first) - 1
        p = pen + (10.0 if tails >= 2 else 0.0)
        if tails >= 1 and len(plain(head).lstrip("-+")) == 3:
            p += 4.0
        groups.append(members[:])
        rec(members[-1] + 1, groups, p, signed)
        groups.pop()
        last = members[-1]
        nxt = last + 1
        head_ok = bool(_HEAD_TOKEN.match(plain(head))) and not re.match(r"^[-+]?0$", plain(head))
        last_ok = last == head or bool(re.match(r"^\d{3}$", plain(last)))
        if head_ok and last_ok and nxt < n and toks[nxt].gap == 1 and _TAIL_TOKEN.match(plain(nxt)):
            chain(first, head, members + [nxt], groups, pen, signed)

    rec(lo, [], 0.0, False)
    return results


def fit_row(toks: list[Tok], lo_min: int, lead_base: int, trailing: int, ncols: int,
             comment_col: bool) -> Cand | None:
    """Choose how the value tokens toks[s:] (s >= lo_min) fill `ncols` columns."""
    best: list[Cand] = []
    n = len(toks)
    slots_expected = ncols + (1 if comment_col else 0)
    trail_empty = max(0, trailing - 1)
    for s in range(lo_min, min(n, lo_min + 4)):  # at most three value-like words stay in the label
        left_cost = 3.0 * (s - lo_min)
        for groups, pen, signed in _segmentations(toks, s):
            g = len(groups)
            texts = [" ".join(toks[i].text for i in grp) for grp in groups]
            # gap-derived empties
            first_gap = toks[s].gap + (lead_base if s == 0 else 0)
            lead_empty = max(0, first_gap - 1)
            mids = [max(0, toks[grp[0]].gap - 1) for grp in groups[1:]]
            e = lead_empty + sum(mids) + trail_empty
            cands: list[Cand] = []
            if g + e == slots_expected:
                slots: list[str | None] = [None] * lead_empty
                for k, txt in enumerate(texts):
                    slots.append(txt)
                    if k < len(mids):
                        slots.extend([None] * mids[k])
                slots.extend([None] * trail_empty)
                if comment_col and slots[-1] is not None:
                    pass
                else:
                    slots = slots[:ncols]
                    inferred = (lead_empty + sum(mids)) > 0
                    cands.append(Cand(pen + left_cost, slots, inferred or signed, s))
            if g == ncols and not (g + e == slots_expected):
                cands.append(Cand(pen + left_cost + 1.0 * e, list(texts), signed, s))
            best.extend(cands)
    if not best:
        return None
    best.sort(key=lambda c: c.cost)
    top = best[0]
    ties = [c for c in best if abs(c.cost - top.cost) < 1e-9]
    if any(c.slots != top.slots for c in ties):
        return Cand(top.cost, top.slots, True, top.start)
    return top


def value_tail_start(toks: list[Tok]) -> int:
    i = len(toks)
    while i > 0 and tok_kind(toks[i - 1].text):
        i -= 1
    return i
