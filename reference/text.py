"""Folding of Vietnamese text for matching that ignores case and diacritics."""

import functools
import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


@functools.cache
def _bare_letters() -> dict[int, str]:
    """Return a str.translate table that does, char by char, what folding does.

    Letters with marks become their base letters (đ/Đ too), marks disappear and
    other non-word characters (punctuation, symbols, "_") become spaces.  Built
    on first use (0.2 s) over the Basic Multilingual Plane, so that folding a
    million names is a few C calls each.
    """
    table: dict[int, str] = {}
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.combining(char):
            table[code] = ""
            continue
        bare = char.replace("đ", "d").replace("Đ", "D")
        bare = "".join(
            c for c in unicodedata.normalize("NFD", bare) if not unicodedata.combining(c)
        )
        bare = _NOT_WORD.sub(" ", bare)
        if bare != char:
            table[code] = bare
    return table


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without diacritics, punctuation or extra spaces.

    "Xã  Hợp Thành", "HỢP THÀNH" (NFC or NFD) and "hop thanh" all fold to
    "xa hop thanh" / "hop thanh".  Unicode decomposition leaves đ/Đ alone (it is
    a letter of its own, not d with a mark), so it is mapped by hand.
    """
    folded = text.translate(_bare_letters()).casefold()
    if not folded.isascii():
        # Letters beyond the table (other planes) take the long way.
        decomposed = unicodedata.normalize("NFD", folded)
        folded = _NOT_WORD.sub(" ", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join(folded.split())


def normalize(text: str) -> str:
    """Return ``text`` in NFC with runs of white space collapsed, for storage."""
    return " ".join(unicodedata.normalize("NFC", text).split())
