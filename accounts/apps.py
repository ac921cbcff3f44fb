from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using="default", **kwargs):
    from django.contrib.auth.management import create_permissions

    from .roles import roles_sync

    # Django makes each app's permissions when that app's post_migrate comes;
    # the roles name permissions of apps listed after this one, so make them now.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        post_migrate.connect(_sync_roles, sender=self)
