"""Finding the commune of each row of a recipient list, among the communes of one edition.

Files name communes by code, by name within a province, or both, and repeat
the same few communes thousands of times: the resolver holds an edition's
communes and provinces in memory and answers each distinct cell triple once.
"""

from collections import defaultdict
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reference.models import AdminUnit, Edition, UnitLevel
from reference.selectors import name_search_terms
from reference.text import fold, normalize


class CommuneError(ValidationError):
    """A commune that cannot be found, with the key of the column to blame."""

    def __init__(self, message: str, *, column: str):
        super().__init__(message)
        self.column = column


class CommuneResolver:
    """Resolve (code, name, province) cells to communes of ``edition``, in memory.

    Construction runs two queries: the edition's provinces, and its communes
    with their province (so that Scope.allows_unit costs no query).  ``province``,
    a province of ``edition``, is where names are looked up when a row gives none.
    """

    def __init__(self, edition: Edition, province: AdminUnit | None = None):
        self.edition = edition
        self.province = province
        provinces = AdminUnit.objects.filter(edition=edition, level=UnitLevel.PROVINCE)
        self._provinces_by_code = {unit.code: unit for unit in provinces}
        self._provinces_by_name = {
            unit.search_name: unit for unit in self._provinces_by_code.values()
        }
        communes = AdminUnit.objects.filter(
            edition=edition, level=UnitLevel.COMMUNE
        ).select_related("province")
        self._communes_by_code: dict[str, AdminUnit] = {}
        self._communes_by_name: dict[tuple[int, str], list[AdminUnit]] = defaultdict(list)
        for unit in communes:
            self._communes_by_code[unit.code] = unit
            self._communes_by_name[unit.province_id, unit.search_name].append(unit)
        # The answer to each distinct question: a unit, or the error's (message, column).
        self._results: dict[tuple, AdminUnit | tuple[str, str]] = {}
        self._provinces_by_text: dict[str, AdminUnit | tuple[str, str]] = {}

    def resolve(self, *, code: str | None, name: str, province: str) -> AdminUnit:
        """Return the commune the row's cells designate, or raise CommuneError.

        ``code`` is already 5 digits (cells.parse_commune_code); with a code, a
        name or a Province cell that contradicts it is an error, not ignored.
        """
        return _answer(
            self._results,
            (code, name, province),
            lambda: self._find(code, normalize(name), province.strip()),
        )

    def province_of(self, text: str) -> AdminUnit:
        """Return the province of the edition that ``text`` names: "Tỉnh Lào Cai", "lao cai",
        "TP Hà Nội", or its code, "15" or "1"."""
        return _answer(self._provinces_by_text, text, lambda: self._find_province(text.strip()))

    def _find_province(self, text: str) -> AdminUnit:
        if not text:
            raise CommuneError(_("give the province"), column="province")
        if text.isascii() and text.isdigit():
            unit = self._provinces_by_code.get(text.zfill(2))
        else:
            terms = name_search_terms(text)
            unit = next(filter(None, map(self._provinces_by_name.get, terms)), None)
        if unit is None:
            raise CommuneError(
                _("“%(value)s” is not a province in the %(edition)s list")
                % {"value": text, "edition": self.edition.code},
                column="province",
            )
        return unit

    def _find(self, code: str | None, name: str, province: str) -> AdminUnit:
        if code:
            return self._find_by_code(code, name, province)
        if not name:
            raise CommuneError(_("give the commune code or the commune's name"), column="commune")
        if province:
            within = self.province_of(province)
        elif self.province is not None:
            within = self.province
        else:
            raise CommuneError(
                _("give the province of “%(name)s”, or the commune code") % {"name": name},
                column="province",
            )
        return self._find_by_name(name, within)

    def _find_by_code(self, code: str, name: str, province: str) -> AdminUnit:
        unit = self._communes_by_code.get(code)
        if unit is None:
            raise CommuneError(
                _("no commune has the code %(code)s in the %(edition)s list")
                % {"code": code, "edition": self.edition.code},
                column="commune_code",
            )
        if name and unit.search_name not in name_search_terms(name):
            raise CommuneError(
                _("the commune with code %(code)s is %(commune)s, not “%(name)s”")
                % {"code": code, "commune": unit.name, "name": name},
                column="commune",
            )
        if province and self.province_of(province).pk != unit.province_id:
            raise CommuneError(
                _("%(commune)s, code %(code)s, is in %(province)s, not “%(value)s”")
                % {
                    "code": code,
                    "commune": unit.name,
                    "province": unit.province.name,
                    "value": province,
                },
                column="province",
            )
        return unit

    def _find_by_name(self, name: str, province: AdminUnit) -> AdminUnit:
        """Return the commune of ``province`` called ``name``, as unit_find_by_name reads names:
        the whole name first ("Xa Dung" is not "Dung" in a "xã"), then without its type word."""
        terms = name_search_terms(name)
        matches = []
        for term in terms:
            matches = self._communes_by_name.get((province.pk, term), [])
            if matches:
                break
        if not matches:
            raise CommuneError(
                _("no commune is called “%(name)s” in %(province)s")
                % {"name": name, "province": province.name},
                column="commune",
            )
        if len(matches) > 1:
            matches = _closest(name, terms[0], matches)
        if len(matches) > 1:
            raise CommuneError(
                _("“%(name)s” may be %(communes)s in %(province)s: give the commune code")
                % {
                    "name": name,
                    "communes": "; ".join(f"{unit.name} ({unit.code})" for unit in matches),
                    "province": province.name,
                },
                column="commune",
            )
        return matches[0]


def _closest(name: str, folded: str, matches: list[AdminUnit]) -> list[AdminUnit]:
    """Return the units among ``matches`` that ``name`` names more precisely.

    Folding makes "Văn Lang" and "Văn Lăng" one name, and "Mỹ Tho" one with "Mỹ Thọ":
    the diacritics typed, or the type word ("Phường Mỹ Tho"), tell them apart.
    """
    typed = name.casefold()
    exact = [
        unit for unit in matches if typed in {unit.name.casefold(), unit.short_name.casefold()}
    ]
    if exact:
        return exact
    return [unit for unit in matches if fold(unit.name) == folded] or matches


def _answer(answers: dict, key, find: Callable[[], AdminUnit]) -> AdminUnit:
    """Return the unit ``find`` gives for ``key``, or raise its error, finding it only once."""
    answer = answers.get(key)
    if answer is None:
        try:
            answer = find()
        except CommuneError as error:
            answer = (error.message, error.column)
        answers[key] = answer
    if isinstance(answer, tuple):
        # A new exception each time: raising one instance again would grow its traceback.
        raise CommuneError(answer[0], column=answer[1])
    return answer
