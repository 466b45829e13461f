from django.core.management.base import BaseCommand

from core.roles import sync_roles


class Command(BaseCommand):
    help = "Create the role groups and set their permissions from core.roles."

    def handle(self, *args, **options):
        sync_roles()
        self.stdout.write("roles synced")
