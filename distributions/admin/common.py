"""What the admin pages of distributions share."""

from ..templatetags.money import grouped


class RecordKeepingDeleteMixin:
    """Explain a refused deletion by the records that depend on the object.

    Items can never be deleted, so Django would otherwise blame the user's
    rights when a recipient, plan or sponsor with cards and books is deleted.
    """

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return to_delete, model_count, perms_needed, protected


def _progress(*figures: int) -> str:
    return " / ".join(grouped(figure) for figure in figures)
