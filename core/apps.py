from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import roles

        # Permissions only exist after every app's post_migrate has run, so the role →
        # permission mapping is synced after the last one rather than in a data migration
        # (which creates the groups themselves). Infrastructure, not business flow.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="core.sync_roles")
        # Every app declares its hook points in its hooks.py (core.hooks): import them all, so
        # the list is complete whoever fills them.
        autodiscover_modules("hooks")
