from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Create demo users and demo data (idempotent: safe to run again)."

    def handle(self, *args, **options):
        demo.seed_users()
        demo.seed_exchange_rates()
        for name, seeder in demo.DEMO_SEEDERS:
            seeder(stdout=self.stdout)
            self.stdout.write(f"seeded {name}")
        self.stdout.write(
            f"demo login: {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}; "
            f"role users {', '.join(demo.ROLE_USERS)} / {demo.DEMO_PASSWORD}"
        )
