"""The columns of the recipients' template, recognised by their Vietnamese or English header."""

from dataclasses import dataclass

from django.utils.translation import get_language

from reference.text import fold


@dataclass(frozen=True)
class Column:
    key: str
    # Headers are part of the file format, the same whatever the user's language.
    vietnamese: str
    english: str
    required: bool = False
    # Other headers seen on lists that communes send.
    aliases: tuple[str, ...] = ()
    width: int = 15

    @property
    def label(self) -> str:
        """Return the header in the user's language, for error messages."""
        return self.vietnamese if (get_language() or "vi").startswith("vi") else self.english

    @property
    def headers(self) -> frozenset[str]:
        return frozenset(fold(header) for header in (self.vietnamese, self.english, *self.aliases))


NUMBER = Column("number", "STT", "No", aliases=("Số TT", "TT", "No."), width=6)
FULL_NAME = Column(
    "full_name", "Họ và tên", "Full name", required=True, aliases=("Họ tên", "Name"), width=28
)
BIRTH = Column(
    "birth",
    "Ngày sinh",
    "Date of birth",
    required=True,
    aliases=("Ngày tháng năm sinh", "Ngày, tháng, năm sinh", "Năm sinh", "Birth date"),
    width=13,
)
SEX = Column("sex", "Giới tính", "Sex", required=True, aliases=("Gender",), width=10)
ETHNIC_GROUP = Column("ethnic_group", "Dân tộc", "Ethnic group", aliases=("Ethnicity",))
PERSONAL_ID = Column(
    "personal_id",
    "Số định danh cá nhân",
    "Personal ID",
    aliases=("Số CCCD", "CCCD", "Số CCCD/ĐDCN", "Số định danh", "Personal identification number"),
    width=16,
)
SOCIAL_INSURANCE_NUMBER = Column(
    "social_insurance_number",
    "Mã số BHXH",
    "Social insurance number",
    aliases=("Mã BHXH", "Social-insurance number"),
    width=13,
)
PHONE = Column("phone", "Số điện thoại", "Phone", aliases=("Điện thoại", "SĐT", "ĐT"), width=13)
COMMUNE_CODE = Column("commune_code", "Mã xã", "Commune code", aliases=("Mã xã/phường",), width=8)
COMMUNE = Column(
    "commune", "Xã/Phường", "Commune", aliases=("Xã", "Phường", "Xã/Phường/Đặc khu"), width=20
)
PROVINCE = Column("province", "Tỉnh/Thành phố", "Province", aliases=("Tỉnh", "Tỉnh/TP"), width=18)
VILLAGE = Column(
    "village", "Thôn/Tổ", "Village", aliases=("Thôn", "Thôn/Bản", "Thôn/Tổ dân phố"), width=18
)
CATEGORY = Column(
    "category", "Diện đối tượng", "Category", required=True, aliases=("Đối tượng",), width=24
)
NOTE = Column("note", "Ghi chú", "Note", aliases=("Notes",), width=24)

# In the template's order.
COLUMNS = (
    NUMBER,
    FULL_NAME,
    BIRTH,
    SEX,
    ETHNIC_GROUP,
    PERSONAL_ID,
    SOCIAL_INSURANCE_NUMBER,
    PHONE,
    COMMUNE_CODE,
    COMMUNE,
    PROVINCE,
    VILLAGE,
    CATEGORY,
    NOTE,
)
BY_KEY = {column.key: column for column in COLUMNS}

# The column the rejected-rows file adds; ignored when that file is imported again.
ERROR_HEADER = "Lỗi / Error"

_BY_HEADER = {header: column for column in COLUMNS for header in column.headers}


def column_for_header(text: str) -> Column | None:
    """Return the column a header names, ignoring case, diacritics, punctuation and spacing."""
    return _BY_HEADER.get(fold(text))
