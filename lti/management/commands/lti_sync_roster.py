from django.core.management.base import BaseCommand, CommandError
from lti_tool.models import LtiContext
from pylti1p3.exception import LtiException, LtiServiceException

from lti import roster


class Command(BaseCommand):
    help = (
        "Pull the roster of every course context an LMS has launched from (or of those "
        "named by their id on the platform) through Names and Role Provisioning."
    )

    def add_arguments(self, parser):
        parser.add_argument("contexts", nargs="*", help="Context ids on the platform.")

    def handle(self, *args, contexts, **options):
        found = LtiContext.objects.exclude(memberships_url="").select_related(
            "deployment__registration"
        )
        if contexts:
            found = found.filter(id_on_platform__in=contexts)
            missing = set(contexts) - set(found.values_list("id_on_platform", flat=True))
            if missing:
                raise CommandError(f"No roster URL known for: {', '.join(sorted(missing))}")
        failed = 0
        for context in found:
            try:
                count = roster.sync(context)
            except (LtiException, LtiServiceException, OSError) as e:
                failed += 1
                self.stderr.write(f"{context}: {e}")
                continue
            self.stdout.write(f"{context}: {count} active member(s)")
        if failed:
            raise CommandError(f"{failed} roster(s) could not be pulled")
