from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agreements.archive import alert_operators
from records.archive_audit import PROBLEMS, verify_archive

# At most this many findings in the operators' mail; the command's output lists them all.
MAILED_FINDINGS = 50


class Command(BaseCommand):
    help = (
        "Check every stored file against its recorded SHA-256, every seal and every evidence "
        "chain, and whether any evidence has expired; exit non-zero and mail the operators "
        "(ADMINS) on any problem (run daily from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_archive()
        lines = []
        for finding in report.findings:
            where = f" {finding.file}" if finding.file else ""
            lines.append(f"{finding.problem.upper()}: {finding.reference}{where}: {finding.detail}")
        for line in lines:
            self.stderr.write(line)
        for due in report.renewal_due:
            self.stdout.write(f"RENEWAL DUE: {due}: run `manage.py renew_evidence`")
        counts = ", ".join(f"{report.counts[problem]} {problem}" for problem in PROBLEMS)
        summary = (
            f"checked {report.files} files and {report.chains} evidence chains: "
            f"{report.files_ok} files ok, {counts}"
        )
        self.stdout.write(summary)
        if not report.ok:
            problems = len(report.findings)
            noun = "problem" if problems == 1 else "problems"
            shown = "\n".join(lines[:MAILED_FINDINGS])
            more = len(lines) - MAILED_FINDINGS
            alert_operators(
                f"Archive check: {problems} {noun}",
                f"{summary}\n\n{shown}"
                + (f"\n… and {more} more: run `manage.py verify_archive`." if more > 0 else ""),
            )
            raise CommandError(f"{problems} {noun} in the archive")
