from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = "Publish pending outbox messages to the broker now."

    def handle(self, *args, **options):
        sent = outbox.drain()
        self.stdout.write(f"OUTBOX sent={sent}")
