"""Regenerate admin_units_2024.csv: the units in force before 1 July 2025.

The list comes from the vietnam-provinces package, version 0.6.0 (January
2025), the last one with 63 provinces and their districts.  It cannot be
installed beside the 2025 edition the project depends on, so run this script
in a throw-away environment:

    python3 -m venv /tmp/vp-0.6 && /tmp/vp-0.6/bin/pip install vietnam-provinces==0.6.0
    /tmp/vp-0.6/bin/python reference/data/build_admin_units_2024.py

(`python3 project.py admin-units-2024` does both.)

Columns: code (zero-padded: 2 digits province, 3 district, 5 commune), name as
officially written, code of the parent unit (empty for a province).
"""

import csv
import json
from pathlib import Path

import vietnam_provinces

OUTPUT = Path(__file__).with_name("admin_units_2024.csv")


def official_name(name: str) -> str:
    # Two district names in the source capitalise "Phố"; the official lists do not.
    return " ".join(name.replace("Thành Phố ", "Thành phố ").split())


def main() -> None:
    if vietnam_provinces.__version__ != "0.6.0":
        raise SystemExit(f"needs vietnam-provinces 0.6.0, found {vietnam_provinces.__version__}")
    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text("utf-8"))
    rows = []
    for province in provinces:
        province_code = f"{province['code']:02d}"
        rows.append((province_code, official_name(province["name"]), ""))
        for district in province["districts"]:
            district_code = f"{district['code']:03d}"
            rows.append((district_code, official_name(district["name"]), province_code))
            for ward in district["wards"]:
                rows.append((f"{ward['code']:05d}", official_name(ward["name"]), district_code))
    rows.sort(key=lambda row: (len(row[0]), row[0]))
    with OUTPUT.open("w", encoding="utf-8", newline="") as output:
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(["code", "name", "parent_code"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} units to {OUTPUT}")


if __name__ == "__main__":
    main()
