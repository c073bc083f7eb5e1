"""The seal with a trusted timestamp and long-term validation data (PAdES B-LTA) against
today's B-B seal, on the same agreement PDF with the same certificate, in one run: the time
ratio and how much the file grows. The PKI (CA, OCSP, CRL, TSA) is simulated on loopback
(tests/pki), so the network cost is that of a local round trip; a real TSA adds its own."""

import statistics
import tempfile
import time
from pathlib import Path

ROUNDS = 10


def report_seal(pdf: bytes) -> None:
    from django.test import override_settings

    from avg_portal.seal import check_seal, seal_pdf
    from tests.pki import SimulatedPKI

    with tempfile.TemporaryDirectory(prefix="avg-portal-pki-") as folder:
        pki = SimulatedPKI(Path(folder))
        try:
            lta_settings = pki.settings()
            basic_settings = {**lta_settings, "TSA_URLS": []}
            timings: dict[str, list[float]] = {"B-B": [], "B-LTA": []}
            sizes = {}
            for round_number in range(ROUNDS + 1):
                for label, overrides in (("B-B", basic_settings), ("B-LTA", lta_settings)):
                    with override_settings(**overrides):
                        start = time.perf_counter()
                        sealed = seal_pdf(pdf)
                        elapsed = (time.perf_counter() - start) * 1000
                        if round_number:  # the first round warms up (and fetches a sample token)
                            timings[label].append(elapsed)
                        sizes[label] = len(sealed)
                        if label == "B-LTA" and not round_number:
                            assert check_seal(sealed).long_term
        finally:
            pki.stop()
    basic, lta = (statistics.median(timings[label]) for label in ("B-B", "B-LTA"))
    print()
    print(f"Seal, agreement PDF of {len(pdf) / 1024:.0f} KB, median of {ROUNDS}:")
    for label, median in (("B-B (today, no TSA)", basic), ("B-LTA", lta)):
        size = sizes[label.split(" ")[0]] / 1024
        print(f"  {label:<20} {median:>7.1f} ms  {size:>6.1f} KB")
    print(
        f"B-LTA / B-B: {lta / basic:.1f}x the time, "
        f"+{(sizes['B-LTA'] - sizes['B-B']) / 1024:.0f} KB (aim: at most 3x, at most +100 KB)"
    )
