"""Folding of Vietnamese text for matching that ignores case and diacritics."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def _bare_letters() -> dict[int, str]:
    """Return a str.translate table: each letter with marks -> its base letters, marks -> ''.

    Built once (about 50 ms) from Unicode's decompositions of the Basic
    Multilingual Plane, so that folding a million names is one C call each.
    """
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x10000):
        char = chr(code)
        if unicodedata.combining(char):
            table[code] = ""
            continue
        decomposed = unicodedata.normalize("NFD", char)
        if decomposed != char:
            table[code] = "".join(c for c in decomposed if not unicodedata.combining(c))
    return table


_BARE_LETTERS = _bare_letters()


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without diacritics, punctuation or extra spaces.

    "Xã  Hợp Thành", "HỢP THÀNH" (NFC or NFD) and "hop thanh" all fold to
    "xa hop thanh" / "hop thanh".  Unicode decomposition leaves đ/Đ alone (it is
    a letter of its own, not d with a mark), so it is mapped by hand.
    """
    bare = text.translate(_BARE_LETTERS)
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def normalize(text: str) -> str:
    """Return ``text`` in NFC with runs of white space collapsed, for storage."""
    return " ".join(unicodedata.normalize("NFC", text).split())
