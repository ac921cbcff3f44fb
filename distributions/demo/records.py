"""The plan's number, its sponsors and their pledges, and the days things happened."""

import datetime
from dataclasses import dataclass

from sponsors.models import Sponsor

PLAN_NUMBER = "4033/KH-BHXH"
PLEDGED_ON = datetime.date(2024, 1, 10)
RECEIVED_ON = datetime.date(2024, 1, 15)
LAO_CAI_DAY = datetime.date(2024, 1, 16)
HA_GIANG_DAY = datetime.date(2024, 1, 18)


@dataclass(frozen=True)
class SponsorData:
    short_name: str
    name_vi: str
    name_en: str
    kind: str
    tax_code: str = ""


# Tax codes only where the published code is certain; PVI's is left blank
# because the article does not say which PVI company gave.
SPONSORS = (
    SponsorData(
        "Agribank",
        "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
        "Vietnam Bank for Agriculture and Rural Development",
        Sponsor.Kind.BANK,
        "0100686174",
    ),
    SponsorData(
        "BIDV",
        "Ngân hàng Thương mại Cổ phần Đầu tư và Phát triển Việt Nam",
        "Joint Stock Commercial Bank for Investment and Development of Vietnam",
        Sponsor.Kind.BANK,
        "0100150619",
    ),
    SponsorData(
        "Vietcombank",
        "Ngân hàng Thương mại Cổ phần Ngoại thương Việt Nam",
        "Joint Stock Commercial Bank for Foreign Trade of Vietnam",
        Sponsor.Kind.BANK,
        "0100112437",
    ),
    SponsorData(
        "VietinBank",
        "Ngân hàng Thương mại Cổ phần Công Thương Việt Nam",
        "Vietnam Joint Stock Commercial Bank for Industry and Trade",
        Sponsor.Kind.BANK,
        "0100111948",
    ),
    SponsorData(
        "MB",
        "Ngân hàng Thương mại Cổ phần Quân đội",
        "Military Commercial Joint Stock Bank",
        Sponsor.Kind.BANK,
        "0100283873",
    ),
    SponsorData(
        "PVI",
        "Tổng Công ty Bảo hiểm PVI",
        "PVI Insurance Corporation",
        Sponsor.Kind.INSURER,
    ),
    SponsorData(
        "Vietnam Post",
        "Tổng công ty Bưu điện Việt Nam",
        "Vietnam Post Corporation",
        Sponsor.Kind.STATE_ENTERPRISE,
        "0102595740",
    ),
)


@dataclass(frozen=True)
class PledgeData:
    sponsor: str
    cards: int
    books: int
    received: bool = True


LAO_CAI_PLEDGES = (
    *(
        PledgeData(bank, 100, 10)
        for bank in ("Agribank", "BIDV", "Vietcombank", "VietinBank", "MB")
    ),
    PledgeData("PVI", 50, 0),
    PledgeData("Vietnam Post", 50, 0),
)
# BIDV has not paid yet: a pledge with nothing received is something to show.
HA_GIANG_PLEDGES = (PledgeData("Agribank", 100, 10), PledgeData("BIDV", 100, 10, received=False))
