"""The agreement's first render counted in machine instructions (valgrind's callgrind):
the same count on a quiet or a busy machine, where CPU time on a shared 2-core machine
moves by ±15 % from round to round. `python -m bench instructions`, or
`make bench-instructions`; it takes a few minutes and needs valgrind.

Each variant runs in a process of its own under callgrind with counting switched off: it
renders once (fonts, caches, imports), switches counting on with `callgrind_control`,
renders once more, and switches it off. A process that only switches counting on and off
gives the cost of the switching, which is subtracted.

The variants:
- today: `avg_portal.pdf.render_pdf` of the draft agreement, as the app does it;
- before issue 15: the same HTML, printed as on 2026-11-29 (`bench.__main__.render_as_before`
  with the print stylesheet of then); the ratio of the two is issue 15's "a first render
  ≤ 0.7× today's CPU";
- today without its margin boxes, without the draft mark, with its inline blocks made
  inline, and without all three: what each part costs at most. Their pages differ from the
  agreement's; no tuning that keeps the pages can save more than removing the part does.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The variant that only switches counting on and off: its count is subtracted from the others.
SWITCHING = "switching"
BEFORE = "before issue 15"
TODAY = "today"
VARIANTS = (
    SWITCHING,
    BEFORE,
    TODAY,
    "today without margin boxes",
    "today without the draft mark",
    "today, inline blocks inline",
    "today without all three",
)
COLLECTED = re.compile(r"Collected : (\d+)")


def without_margin_boxes(css):
    css, found = re.subn(r"\n  @(top|bottom)-[a-z]+ \{.*?\n  \}", "", css, flags=re.S)
    assert found, "the print stylesheet has no margin boxes any more"
    return css


def without_draft_mark(html):
    html, found = re.subn(r'<div class="draft-mark">.*?</div>', "", html)
    assert found == 1, "the print HTML has no draft mark any more"
    return html


def inline_blocks_inline(css):
    assert "display: inline-block" in css, "the print stylesheet has no inline blocks any more"
    return css.replace("display: inline-block", "display: inline")


def variant_render(variant, html, allowed_data_uris):
    """What to count for `variant`: a function of no arguments."""
    from avg_portal import pdf

    from .__main__ import BEFORE_CSS, render_as_before, with_stylesheet

    if variant == SWITCHING:
        return lambda: None
    if variant == BEFORE:
        html = with_stylesheet(html, BEFORE_CSS.read_text())
        return lambda: render_as_before(html, allowed_data_uris)
    css = pdf.find_static_file("css/agreement-print.css").read_text()
    if "margin boxes" in variant or "all three" in variant:
        css = without_margin_boxes(css)
    if "draft mark" in variant or "all three" in variant:
        html = without_draft_mark(html)
    if "inline" in variant or "all three" in variant:
        css = inline_blocks_inline(css)
    if variant != TODAY:
        html = with_stylesheet(html, css)
    return lambda: pdf.render_pdf(
        html, title="Verwerkersovereenkomst", author="Bench", allowed_data_uris=allowed_data_uris
    )


def child(variant, html_file):
    """In the process valgrind runs: render once uncounted, once counted."""
    import json
    import logging

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avg_portal.settings")
    django.setup()
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    document = json.loads(Path(html_file).read_text())
    render = variant_render(variant, document["html"], document["allowed_data_uris"])
    render()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "--instr=on", pid], check=True, capture_output=True)  # noqa: S603, S607
    render()
    subprocess.run(["callgrind_control", "--instr=off", pid], check=True, capture_output=True)  # noqa: S603, S607


def count(variant, html_file):
    """The instructions `variant` ran while counting was on."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        variant,
        str(html_file),
    ]
    # The same hash seed for every variant: dictionaries and sets iterate alike.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    found = COLLECTED.findall(result.stderr)
    if result.returncode or not found:
        raise SystemExit(f"{variant}: valgrind failed\n{result.stdout}\n{result.stderr[-3000:]}")
    return int(found[-1])


def report_instructions(agreement):
    import json

    from .__main__ import agreement_print_html

    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit(
            "The instructions section needs valgrind: apt-get install valgrind (Debian)."
        )
    html, allowed_data_uris = agreement_print_html(agreement)
    with tempfile.TemporaryDirectory(prefix="avg-portal-instructions-") as folder:
        html_file = Path(folder) / "agreement.json"
        html_file.write_text(json.dumps({"html": html, "allowed_data_uris": allowed_data_uris}))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = dict(
                zip(VARIANTS, pool.map(lambda v: count(v, html_file), VARIANTS), strict=True)
            )
    switching = counts.pop(SWITCHING)
    renders = {variant: total - switching for variant, total in counts.items()}
    before, today = renders[BEFORE], renders[TODAY]
    print()
    print(
        "Instructions per render of the draft agreement (callgrind, after a warm-up render;"
        f" {switching / 1e6:.1f} M of switching the count subtracted):"
    )
    for variant, instructions in renders.items():
        saved = ""
        if variant not in (BEFORE, TODAY):
            saved = f"  saves {(today - instructions) / before:>5.1%} of before"
        print(
            f"  {variant:<30} {instructions / 1e6:>7,.0f} M  {instructions / before:.3f}x before"
            + saved
        )
    print(f"First render, today / before issue 15 (instructions): {today / before:.3f}x")
    print("  (goal: at most 0.7x; the variants below today show the most each part can save)")


if __name__ == "__main__":
    child(*sys.argv[1:])
