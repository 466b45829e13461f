from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        from core import hooks

        hooks.discover()  # every app's hook points are declared before any app fills them
