from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, UnitLevel
from reference.text import fold, normalize

from .identifiers import (
    has_personal_id_shape,
    normalize_phone,
    personal_id_mismatches,
    validate_personal_id,
    validate_phone,
    validate_social_insurance_number,
)


def current_communes() -> Q:
    """Return the condition for communes of the edition in force today: addresses are current."""
    return Q(edition__in_force__contains=timezone.localdate(), level=UnitLevel.COMMUNE)


class NameTerms(Func):
    """The terms of a folded name, for the name search (selectors.beneficiary_search).

    A tsvector of core PostgreSQL's full-text search, written directly (no text
    search configuration): each word, and each pair of words next to each other
    after a space, "duong thi van" giving 'duong' 'thi' 'van' ' duong thi'
    ' thi van' ' van'.  A search for two words then reads one term's rows,
    "Dương Thị" the 1.5% of people so named, where the words alone would find
    every "thi" (a third of everyone) and their order would have to be read from
    the table; the leading space keeps a pair from being found by a word's
    prefix ('duong':* does not read ' duong thi').  Folded names are letters
    and digits between single spaces, so the comma that separates the pairs
    cannot occur in them; an empty word (two spaces written by some other path)
    is dropped, as array_to_tsvector refuses it.  Queries must use this same
    expression to use its index (beneficiary_name_terms_idx), which migration
    0011 built: a change here needs a migration that builds it again (a test
    holds the SQL it built).
    """

    template = (
        "array_to_tsvector(array_remove(string_to_array(%(expressions)s, ' ') || string_to_array("
        r"' ' || regexp_replace(%(expressions)s, ' ([^ ]+)', ' \1, \1', 'g'), ','), ''))"
    )
    output_field = SearchVectorField()


NAME_TERMS = NameTerms(F("search_name"))


def masked_personal_id(number: str | None) -> str:
    """Return a personal ID as ********1234 ("" for none)."""
    return f"{'*' * 8}{number[-4:]}" if number else ""


class Beneficiary(models.Model):
    """A person in difficult circumstances who receives a card or a book."""

    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class Category(models.TextChoices):
        POOR = "poor", _("poor household")
        NEAR_POOR = "near_poor", _("near-poor household")
        OUT_OF_POVERTY = "out_of_poverty", _("just out of poverty")
        ETHNIC_MINORITY = "ethnic_minority", _("ethnic minority not covered by the state")
        AVERAGE_LIVING = "average_living", _("average living standard, not insured")
        OTHER = "other", _("other difficult circumstance")

    class ConsentMethod(models.TextChoices):
        SIGNED = "signed", _("signed form")
        THUMBPRINT = "thumbprint", _("thumbprint on form")
        ORAL = "oral", _("oral, before a witness")
        ELECTRONIC = "electronic", _("electronic")

    full_name = models.CharField(_("full name"), max_length=150)
    # full_name folded (reference.text.fold): "luong thi truc" finds "Lương Thị Trúc".
    # Compared for equality through beneficiary_duplicate_idx, whose first column it is;
    # the lists are sorted by it (the same index, or (province, search_name, id)); its
    # words are searched through NAME_TERMS.
    search_name = models.CharField(max_length=150, editable=False)
    birth_date = models.DateField(
        _("date of birth"),
        null=True,
        blank=True,
        help_text=_("Leave empty when only the year is known."),
    )
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    ethnic_group = models.CharField(
        _("ethnic group"), max_length=2, choices=EthnicGroup.choices, blank=True
    )
    # NULL when unknown, not "": the unique constraint admits any number of NULLs.
    personal_id = models.CharField(  # noqa: DJ001
        _("personal identification number"),
        max_length=12,
        null=True,
        blank=True,
        validators=[validate_personal_id],
        help_text=_("12 digits (số định danh cá nhân / CCCD)."),
    )
    social_insurance_number = models.CharField(  # noqa: DJ001
        _("social-insurance number"),
        max_length=10,
        null=True,
        blank=True,
        validators=[validate_social_insurance_number],
        help_text=_("10 digits (mã số BHXH), for older records."),
    )
    # Long enough for "+84 912 345 678" as typed; stored as 0912345678.
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    commune = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune"),
        limit_choices_to=current_communes,
        help_text=_("Commune, ward or special zone where the person lives today."),
        db_index=False,  # beneficiary_commune_idx starts with it
    )
    # The commune's province, kept here so that scoping by province is one
    # indexed equality on millions of rows.
    province = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    address_line = models.CharField(
        _("village or street"),
        max_length=255,
        blank=True,
        help_text=_("Village (thôn, bản), residential group (tổ) or house number and street."),
    )
    category = models.CharField(_("hardship category"), max_length=20, choices=Category.choices)
    household_key = models.CharField(
        _("household"),
        max_length=50,
        blank=True,
        help_text=_("Any key shared by members of one household, e.g. the household book number."),
    )
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)
    consent_method = models.CharField(
        _("how consent was given"), max_length=20, choices=ConsentMethod.choices, blank=True
    )
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent recorded by"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Set by beneficiary_anonymise: the personal data are gone and the record is
    # kept only for the counts and amounts of its cards and books.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["search_name", "pk"]
        permissions = [
            (
                "view_personal_data",
                _("Can see personal ID numbers, ethnicity and hardship category"),
            ),
            ("anonymise_beneficiary", _("Can anonymise recipients")),
        ]
        # Unique constraints and plain indexes rather than unique=True and db_index=True,
        # which add a LIKE index (varchar_pattern_ops) per column that no query uses
        # and every insert maintains: a 100,000-row import pays for each.
        constraints = [
            models.UniqueConstraint(fields=["personal_id"], name="beneficiary_personal_id_unique"),
            models.UniqueConstraint(
                fields=["social_insurance_number"], name="beneficiary_si_number_unique"
            ),
            models.CheckConstraint(
                name="beneficiary_personal_id_digits",
                condition=Q(personal_id__isnull=True) | Q(personal_id__regex=r"^[0-9]{12}$"),
            ),
            models.CheckConstraint(
                name="beneficiary_si_number_digits",
                condition=Q(social_insurance_number__isnull=True)
                | Q(social_insurance_number__regex=r"^[0-9]{10}$"),
            ),
            models.CheckConstraint(
                name="beneficiary_birth_date_in_birth_year",
                condition=Q(birth_date__isnull=True) | Q(birth_year=ExtractYear(F("birth_date"))),
            ),
            models.CheckConstraint(
                name="beneficiary_birth_year_plausible",
                condition=Q(birth_year__gte=1900, birth_year__lte=2100),
            ),
            models.CheckConstraint(name="beneficiary_name_not_blank", condition=~Q(full_name="")),
        ]
        indexes = [
            models.Index(fields=["province", "category"], name="beneficiary_province_idx"),
            # A province's or commune's people page by page in id order (the API's
            # cursor): a range of one index, never a sort of the whole area.
            models.Index(fields=["province", "id"], name="beneficiary_province_id_idx"),
            models.Index(fields=["commune", "id"], name="beneficiary_commune_idx"),
            # A province's possible duplicates, grouped from the index alone (the dashboards).
            models.Index(
                fields=["province", "search_name", "birth_year", "commune"],
                condition=Q(anonymised_at__isnull=True),
                name="beneficiary_province_dup_idx",
            ),
            models.Index(
                fields=["search_name", "birth_year", "commune"], name="beneficiary_duplicate_idx"
            ),
            models.Index(fields=["household_key"], name="beneficiary_household_idx"),
            # A province's people by name, page by page (the admin's list of provincial
            # staff, or filtered by province): one range of the index, not a sort of 50,000.
            models.Index(
                fields=["province", "search_name", "id"], name="beneficiary_province_name_idx"
            ),
            # The name search: the words of the folded name and their pairs (NAME_TERMS).
            GinIndex(NAME_TERMS, name="beneficiary_name_terms_idx"),
            # The search by phone number (an ID number's is its unique constraint's index).
            models.Index(fields=["phone"], condition=~Q(phone=""), name="beneficiary_phone_idx"),
            # The dashboards' count of people still without an ID, by province.
            models.Index(
                fields=["province"],
                condition=Q(personal_id__isnull=True, anonymised_at__isnull=True),
                name="beneficiary_without_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.birth_year})"

    def save(self, *args, **kwargs):
        self.full_name = normalize(self.full_name)
        self.search_name = fold(self.full_name)
        if self.birth_date:
            self.birth_year = self.birth_date.year
        self.province_id = self.commune.province_id
        super().save(*args, **kwargs)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def masked_personal_id(self) -> str:
        """Return the ID as ********1234, as lists and minutes show it."""
        return masked_personal_id(self.personal_id)

    @property
    def masked_social_insurance_number(self) -> str:
        """Return the social-insurance number as ******7890."""
        number = self.social_insurance_number
        return f"{'*' * 6}{number[-4:]}" if number else ""

    def clean(self) -> None:
        self.full_name = normalize(self.full_name)
        if not self.full_name:
            raise ValidationError({"full_name": _("Enter the person's full name.")})
        if self.birth_date:
            if self.birth_year and self.birth_year != self.birth_date.year:
                raise ValidationError(
                    {"birth_year": _("The year of birth differs from the date of birth.")}
                )
            self.birth_year = self.birth_date.year
        if self.phone:
            self.phone = normalize_phone(self.phone)
        self.personal_id = self.personal_id or None
        self.social_insurance_number = self.social_insurance_number or None
        # A number of another shape is refused by its validator: nothing to read from it.
        if (
            self.personal_id
            and has_personal_id_shape(self.personal_id)
            and self.birth_year
            and self.sex
        ):
            errors = personal_id_mismatches(
                self.personal_id,
                birth_year=self.birth_year,
                is_female=self.sex == self.Sex.FEMALE,
            )
            if errors:
                raise ValidationError({"personal_id": list(errors.values())})
        if (
            self.commune_id
            and not AdminUnit.objects.filter(current_communes(), pk=self.commune_id).exists()
        ):
            raise ValidationError(
                {"commune": _("Choose a commune, ward or special zone of today's units.")}
            )


class ImportJob(models.Model):
    """One spreadsheet of recipients: checked first (the preview), then written as checked.

    The file itself is kept in the database, so that a worker on another
    machine can read it and the rejected rows can be downloaded later.
    """

    class Edition(models.TextChoices):
        CURRENT = "2025", _("2025 list of units (34 provinces, in force from 1 July 2025)")
        PREVIOUS = "2024", _("2024 list of units (63 provinces, older lists)")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("All or nothing: write only if every row is valid")
        VALID_ROWS = "valid", _("Write the valid rows, set the rejected ones aside")

    class Existing(models.TextChoices):
        SKIP = "skip", _("Leave their record as it is")
        UPDATE = "update", _("Update their record with the file's values")

    class Duplicates(models.TextChoices):
        LEAVE_OUT = "leave_out", _("Leave them out (they go to the rejected rows)")
        IMPORT = "import", _("Record them as new recipients")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be checked")
        VALIDATING = "validating", _("being checked")
        VALIDATED = "validated", _("checked, waiting for confirmation")
        COMMIT_QUEUED = "commit_queued", _("confirmed, waiting to be written")
        COMMITTING = "committing", _("being written")
        COMMITTED = "committed", _("written")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    file_name = models.CharField(_("file"), max_length=255)
    file_content = models.BinaryField(editable=False)
    province = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("Every row must be a person of this province."),
    )
    edition = models.CharField(
        _("list of units"), max_length=4, choices=Edition.choices, default=Edition.CURRENT
    )
    mode = models.CharField(
        _("rows with errors"), max_length=5, choices=Mode.choices, default=Mode.ALL_OR_NOTHING
    )
    existing = models.CharField(
        _("people already recorded"), max_length=6, choices=Existing.choices, default=Existing.SKIP
    )
    duplicates = models.CharField(
        _("possible duplicates"),
        max_length=9,
        choices=Duplicates.choices,
        default=Duplicates.LEAVE_OUT,
    )
    # The language the uploader reads: row messages are written in it.
    language = models.CharField(max_length=10, default="vi", editable=False)
    status = models.CharField(
        _("status"), max_length=13, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("error"), blank=True)
    header_row = models.PositiveIntegerField(null=True, blank=True, editable=False)
    ignored_headers = models.JSONField(default=list, blank=True, editable=False)
    progress_done = models.PositiveIntegerField(default=0, editable=False)
    progress_total = models.PositiveIntegerField(default=0, editable=False)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped_count = models.PositiveIntegerField(_("already recorded, left as they are"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    duplicate_count = models.PositiveIntegerField(_("possible duplicates"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    validated_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("written at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient import")
        verbose_name_plural = _("recipient imports")
        ordering = ["-created_at", "-pk"]

    # Confirmed and not yet written: a worker's to write (again, after a crash).
    TO_WRITE = (Status.COMMIT_QUEUED, Status.COMMITTING)

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.VALIDATING, *self.TO_WRITE}

    @property
    def can_commit(self) -> bool:
        """Whether the preview may be confirmed: checked, and nothing blocks all-or-nothing."""
        if self.status != self.Status.VALIDATED:
            return False
        return self.mode == self.Mode.VALID_ROWS or self.rejected_count == 0


class ImportRow(models.Model):
    """One checked row of an import: what the preview showed and the commit writes."""

    class Outcome(models.TextChoices):
        NEW = "new", _("new")
        UPDATE = "update", _("updated")
        UNCHANGED = "unchanged", _("unchanged")
        SKIP = "skip", _("already recorded")
        DUPLICATE = "duplicate", _("possible duplicate")
        REJECTED = "rejected", _("rejected")

    # Indexed by import_row_unique, whose first column it is.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    row_number = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=9, choices=Outcome.choices)
    # The cells as the file had them, by column key: rejected rows are written back from them.
    cells = models.JSONField(default=dict)
    # The recipient's columns as they will be written: STAGED_FIELDS, added below.
    # [[column key, message], ...] in the uploader's language.
    errors = models.JSONField(default=list, blank=True)
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The stored record's updated_at when checked: the commit refuses a record changed since.
    expected_updated_at = models.DateTimeField(null=True, blank=True)
    # Who a possible duplicate resembles: [{"pk": id} or {"row": number}, ...].
    similar = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_row_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job} #{self.row_number}"


# The recipient's columns a checked row holds: what the commit writes and the preview compares.
STAGED_FIELDS = (
    "full_name",
    "search_name",
    "birth_date",
    "birth_year",
    "sex",
    "ethnic_group",
    "personal_id",
    "social_insurance_number",
    "phone",
    "commune_id",
    "province_id",
    "address_line",
    "category",
    "notes",
)


def _staged_column(name: str) -> models.Field:
    """Return a Beneficiary column for checked rows: same type, nullable, without checks,
    uniqueness, index or foreign key, since the rows were checked and the commit's
    INSERT into the recipients' table meets every constraint again."""
    source = Beneficiary._meta.get_field(name)
    if source.is_relation:
        return models.BigIntegerField(null=True, blank=True)
    options = {"max_length": source.max_length} if source.max_length else {}
    return type(source)(null=True, blank=True, **options)


for _name in STAGED_FIELDS:
    ImportRow.add_to_class(_name, _staged_column(_name))
