"""Reading the dashboards' pages as a user sees them: tables, links, exported files."""

import io
from html.parser import HTMLParser

from openpyxl import load_workbook


class _Tables(HTMLParser):
    """Collect each dashboard table's cells (text and link) by its section's id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[dict]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("id", "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"][len("table-") :], [])
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = {"text": "", "link": None, "colspan": int(attrs.get("colspan", 1))}
        elif self._cell is not None and tag == "a":
            self._cell["link"] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "section":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def html_tables(content: bytes) -> dict[str, list[list[dict]]]:
    """Return every table of a dashboard page: rows of cells {text, link, colspan}."""
    parser = _Tables()
    parser.feed(content.decode())
    return parser.tables


def body_rows(table: list[list[dict]]) -> list[list[str]]:
    """Return a table's rows under its headings (rows of <td>), as texts."""
    header_rows = 2 if any(cell["colspan"] > 1 for cell in table[0]) else 1
    return [[cell["text"] for cell in row] for row in table[header_rows:]]


def row_of(table: list[list[dict]], label: str) -> dict[str, dict]:
    """Return the row whose first cell reads ``label``, by column heading (last heading row)."""
    headings = [cell["text"] for cell in _headings(table)]
    for row in table:
        if row and row[0]["text"] == label:
            return dict(zip(headings, row, strict=True))
    raise AssertionError(f"no row {label!r} in {[r[0]['text'] for r in table]}")


def _headings(table):
    header_rows = 2 if any(cell["colspan"] > 1 for cell in table[0]) else 1
    if header_rows == 1:
        return table[0]
    groups = []
    for cell in table[0]:
        groups += [cell["text"]] * cell["colspan"]
    return [
        {"text": f"{group}: {cell['text']}" if group else cell["text"]}
        for group, cell in zip(groups, table[1], strict=True)
    ]


def number(text: str) -> int:
    """Read a whole number as the page writes it in either language: 1.263.600 or 1,263,600."""
    return int(text.replace(".", "").replace(",", "").replace("₫", "").replace("VND", "").strip())


def xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def admin_links(content: bytes, limit: int | None = None) -> dict[str, str]:
    """Return the links of a page's figures to the admin's list of items, with the figure.

    With ``limit``, each table's first and last ``limit`` links (its total is last).
    """
    figures = {}
    for table in html_tables(content).values():
        links = [
            (cell["link"], cell["text"])
            for row in table
            for cell in row
            if (cell["link"] or "").startswith("/admin/distributions/item/?")
        ]
        figures.update(dict(links if limit is None else links[:limit] + links[-limit:]))
    return figures


def assert_admin_lists_each_figure(client, content: bytes, limit: int | None = None) -> int:
    """Follow each figure's link and check the admin lists that many items; return how many."""
    figures = admin_links(content, limit)
    for link, text in figures.items():
        listed = client.get(link)
        # 200, not the admin's redirect for a filter it refuses (?e=1).  The rows of the
        # list as filtered, counted exactly: the page may show an estimate when slow.
        assert listed.status_code == 200, link
        assert listed.context["cl"].queryset.count() == number(text), (link, text)
    return len(figures)
