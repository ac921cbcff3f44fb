"""Who may see a recipient's personal data: one rule for the admin and the API."""

PERSONAL_DATA = "beneficiaries.view_personal_data"
# Sensitive data (Decree 13/2023, Law 91/2025): only for the roles that need them.
SENSITIVE_FIELDS = frozenset({"ethnic_group", "category"})


def sees_personal_data(user) -> bool:
    return user.has_perm(PERSONAL_DATA)
