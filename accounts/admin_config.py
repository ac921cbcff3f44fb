from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin whose ``admin.site`` is accounts' two-factor-aware site.

    Django's documented way to replace the default site: every app keeps
    registering with ``django.contrib.admin.site``.  This module stays light (the
    site itself imports forms and models, which cannot load before the apps).
    """

    default_site = "accounts.admin_site.AdminSite"
