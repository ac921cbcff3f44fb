from django.core.management.base import BaseCommand

from api.services import idempotent_responses_prune


class Command(BaseCommand):
    help = "Delete the stored responses of Idempotency-Keys older than IDEMPOTENCY_TTL_HOURS."

    def handle(self, *args, **options):
        deleted = idempotent_responses_prune()
        self.stdout.write(f"{deleted} stored responses deleted.")
