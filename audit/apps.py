from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from django.core.management.base import BaseCommand

        from .context import in_command_context

        # Changes made by a management command (manage.py or call_command)
        # carry its name in the audit trail; requests get theirs from
        # AuditContextMiddleware.  Django has no hook for "a command starts".
        if not hasattr(BaseCommand.execute, "__wrapped__"):
            BaseCommand.execute = in_command_context(BaseCommand.execute)
