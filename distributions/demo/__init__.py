"""Demo data: the Lào Cai hand-over of 16 January 2024, as VSS reported it on 19/01/2024.

From the article ("VSS Extends Care to People Facing Hardships in Lao Cai
Province"): plan 4033/KH-BHXH signed on 29/11/2023 by the VSS Director General;
seven sponsors; 600 health-insurance cards and 50 social-insurance books for
Lào Cai City; 45 cards and 10 books handed over in Hợp Thành commune on
16/01/2024 by Deputy General Director Đào Việt Ánh with Vice Chairman Ngô Vũ
Quốc of the city; the other 555 cards and 40 books left to the Lào Cai
provincial social-security office; Ms Lương Thị Trúc of Hợp Thành among the
recipients.

Made up, because the article does not say:

- how the sponsors split the cost: the five banks 100 cards and 10 books each,
  PVI and Vietnam Post 50 cards each; pledged on 10/01/2024 and paid in full on
  15/01/2024;
- every recipient but Lương Thị Trúc's name, sex and commune (names, birth
  years, ethnic groups, categories and personal ID numbers are drawn from a
  fixed seed; the IDs only pass the model's checks), and which sponsor pays for
  whose card;
- the whole Hà Giang part (a quota, two pledges and a hand-over in Lũng Cú),
  added so that filters and totals span two provinces.

Cards run 12 months from the day they are issued; books pay 12 months at the
lowest income.  Everything goes through the services, as a user's input would.
Running the loader again creates nothing: records are looked up by their
natural keys first.
"""

from .loader import DemoReport, ReferenceDataMissing, demo_load
from .records import PLAN_NUMBER

__all__ = ["PLAN_NUMBER", "DemoReport", "ReferenceDataMissing", "demo_load"]
