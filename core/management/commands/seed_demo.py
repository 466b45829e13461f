from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import demo
from core.hooks import DEMO_SEEDERS


class Command(BaseCommand):
    help = (
        "Create demo users (admin/admin and one user per role) and demo data (idempotent: safe to run "
        "again). Refused when DEBUG is off unless --force: the demo passwords are printed in the README."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even with DEBUG off (a throw-away staging or demo instance, never production)",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "refusing to create the demo users (admin / admin and the role users with the published "
                "password demo-pass-123): DEBUG is off, so this looks like a production database. Create "
                "real accounts with `createsuperuser` instead, or pass --force for a throw-away demo instance."
            )
        demo.seed_users()
        demo.seed_exchange_rates()
        for seeder in DEMO_SEEDERS.fillers():  # INSTALLED_APPS order: an app after those it needs
            seeder.function(stdout=self.stdout)
            self.stdout.write(f"seeded {seeder.app_label}")
        self.stdout.write(
            f"demo login: {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}; "
            f"role users {', '.join(demo.ROLE_USERS)} / {demo.DEMO_PASSWORD}"
        )
