from django.core.management.base import BaseCommand, CommandError

from exercises.models import ProblemSet
from lti import grades


class Command(BaseCommand):
    help = (
        "Send every LTI student's current score on these problem sets to the platforms' "
        "gradebooks: after a quiz's feedback is released, or to set a column straight."
    )

    def add_arguments(self, parser):
        parser.add_argument("problem_sets", nargs="+", help="Problem set slugs.")

    def handle(self, *args, problem_sets, **options):
        for slug in problem_sets:
            problem_set = ProblemSet.objects.filter(slug=slug).first()
            if problem_set is None:
                raise CommandError(f"No problem set {slug!r}")
            count = grades.post_all(problem_set)
            self.stdout.write(f"{slug}: {count} score post(s) sent")
