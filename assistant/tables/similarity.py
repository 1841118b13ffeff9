"""How alike two stemmed words are, 0..1: equal, an inflection, a compound, a one-letter slip."""

from __future__ import annotations

from functools import lru_cache

SAME = 1.0
# an inflection of the same word: "sysselsättningsgrad" ~ "sysselsättningsgraden"
INFLECTION = 0.9
# a one-letter slip (or two swapped letters) in a long word
SLIP = 0.8
# the measure asked for is the head of a longer row word: "sjukfrånvaro" in "sjukfrånvaroredovisning"
QUERY_IS_HEAD = 0.75
# the measure asked for inside a row word: "frånvaro" in "sjukfrånvaro"
QUERY_INSIDE = 0.7
# a row word inside a compound of the query ("förmån" in "läkemedelsförmån"), or the two words
# sharing all but their last letter
ROW_WORD_INSIDE = 0.6
# a row word that is only the head of a longer query word: "vård" for "vårdersättning"
ROW_WORD_IS_HEAD = 0.4
NONE = 0.0

# A word shorter than these is only ever compared whole (prefixes and slips of short words mislead).
_MIN_HEAD = 4
_MIN_SLIP = 6
_MIN_INSIDE = 5
# an ending this long or shorter is an inflection rather than another word
_MAX_ENDING = 3


def edit1(a: str, b: str) -> bool:
    """One letter inserted, dropped or changed, or two neighbouring letters swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=400_000)
def similarity(q: str, t: str) -> float:
    """How well the row word `t` matches the query word `q`."""
    if q == t:
        return SAME
    if q.isdigit() or t.isdigit():
        return NONE
    short, long_ = (q, t) if len(q) <= len(t) else (t, q)
    if len(short) >= _MIN_HEAD and long_.startswith(short):
        if len(long_) - len(short) <= _MAX_ENDING:
            return INFLECTION
        # a compound: the measure asked for as the head of a longer row word counts more than a row
        # word that is only the head of a longer query word
        return QUERY_IS_HEAD if short == q else ROW_WORD_IS_HEAD
    if len(short) >= _MIN_SLIP and edit1(q, t):
        return SLIP
    if len(q) >= _MIN_INSIDE and len(t) > len(q) and q in t:
        return QUERY_INSIDE
    if len(t) >= _MIN_INSIDE and len(q) > len(t) + 2 and t in q:
        return ROW_WORD_INSIDE
    if len(q) >= _MIN_SLIP and len(t) >= _MIN_SLIP and (q[:-1] in t or t[:-1] in q) \
            and min(len(q), len(t)) >= _MIN_SLIP:
        return ROW_WORD_INSIDE
    return NONE


def best(q: str, tokens: tuple[str, ...]) -> float:
    """The best similarity of `q` to any of `tokens`."""
    top = NONE
    for t in tokens:
        s = similarity(q, t)
        if s > top:
            top = s
            if s == SAME:
                break
    return top
