from typing import Any

from django.core.management.base import BaseCommand, CommandError

from records.archive_audit import PROBLEMS, verify_archive


class Command(BaseCommand):
    help = (
        "Check every stored file against its recorded SHA-256, every seal and every evidence "
        "chain; exit non-zero on any problem (run daily from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_archive()
        for finding in report.findings:
            where = f" {finding.file}" if finding.file else ""
            self.stderr.write(
                f"{finding.problem.upper()}: {finding.reference}{where}: {finding.detail}"
            )
        for due in report.renewal_due:
            self.stdout.write(f"RENEWAL DUE: {due}: run `manage.py renew_evidence`")
        counts = ", ".join(f"{report.counts[problem]} {problem}" for problem in PROBLEMS)
        self.stdout.write(
            f"checked {report.files} files and {report.chains} evidence chains: "
            f"{report.files_ok} files ok, {counts}"
        )
        if not report.ok:
            raise CommandError(f"{len(report.findings)} problems in the archive")
