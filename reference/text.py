"""Folding of Vietnamese text for matching that ignores case and diacritics."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without diacritics, punctuation or extra spaces.

    "Xã  Hợp Thành", "HỢP THÀNH" (NFC or NFD) and "hop thanh" all fold to
    "xa hop thanh" / "hop thanh".  Unicode decomposition leaves đ/Đ alone (it is
    a letter of its own, not d with a mark), so it is mapped by hand.
    """
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def normalize(text: str) -> str:
    """Return ``text`` in NFC with runs of white space collapsed, for storage."""
    return " ".join(unicodedata.normalize("NFC", text).split())
