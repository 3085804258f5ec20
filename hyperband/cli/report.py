"""``hyperband report``: summarise a study's journal; ``--plot`` draws the worker timeline and
the best value against budget spent; ``--html`` writes the interactive report (``--live``:
again and again while the study runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hyperband.cli.args import CliError, Parser, int_at_least, positive_seconds
from hyperband.report.text import summary_lines, trial_lines

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = ["SORTS", "add_parser", "command"]

SORTS = ("budget", "value", "job", "duration")


def add_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``report`` and its arguments to the subcommands ``sub``."""
    p = sub.add_parser(
        "report",
        help="summarise a study's journal",
        description="Summarise a journal written by `hyperband run --journal`. With --plot, "
        "also draw the worker timeline (jobs per worker, coloured by bracket) and the best "
        "value against budget spent (needs matplotlib: pip install 'hyperband[plot]').",
    )
    p.add_argument("journal", type=Path, help="the journal file")
    p.add_argument("--plot", type=Path, metavar="OUT", help="write the figure here (.png, .svg)")
    p.add_argument(
        "--trials",
        action="store_true",
        help="also print a table of the jobs: configuration, budget, value, status, and why a "
        "failed job failed",
    )
    p.add_argument(
        "--sort",
        choices=SORTS,
        default="budget",
        help="order of --trials: budget (largest budget first, then best value; the default), "
        "value (best first), job (job id), duration (longest first); failed jobs come last",
    )
    p.add_argument(
        "--top", type=int_at_least(1), metavar="K", help="--trials: only the first K rows"
    )
    p.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="write an interactive, self-contained HTML report here",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="with --html: rewrite the report every --interval seconds until the study is "
        "complete (the page reloads itself); Ctrl-C stops",
    )
    p.add_argument(
        "--interval",
        type=positive_seconds,
        metavar="SECONDS",
        help="with --live: seconds between rewrites (default 5)",
    )


def command(args: argparse.Namespace, out: IO[str]) -> int:
    """Print the summary of ``args.journal`` to ``out``; write its plot and HTML report."""
    if args.top is not None and not args.trials:
        raise CliError(f"--top applies to --trials only, got --top {args.top} without --trials")
    if args.journal.is_dir():
        raise CliError(f"JOURNAL: {str(args.journal)!r} is a directory, not a journal file")
    _check_html(args)
    if args.live:
        from hyperband.report.html import live

        try:
            return live(args.journal, args.html, interval=args.interval or 5.0, out=out)
        except OSError as exc:
            raise CliError(f"--html: cannot write {str(args.html)!r}: {exc}") from None
    if args.plot is not None:
        _check_plot(args.plot)
    result, study = _load_journal(args.journal)
    print(f"journal: {args.journal}", file=out)
    for line in summary_lines(result, study):
        print(line, file=out)
    if args.trials:
        print("trials:", file=out)
        for line in trial_lines(result, sort=args.sort, top=args.top):
            print(line, file=out)
    if args.plot is not None:
        from hyperband.report.plots import plot_result

        try:
            plot_result(result, args.plot, title=str(args.journal))
        except (OSError, ValueError) as exc:  # unwritable file, unknown image format
            raise CliError(f"--plot: cannot write {str(args.plot)!r}: {exc}") from None
        print(f"plot: {args.plot}", file=out)
    if args.html is not None:
        from hyperband.report.html import html_report

        try:
            html_report(args.journal, args.html)
        except OSError as exc:
            raise CliError(f"--html: cannot write {str(args.html)!r}: {exc}") from None
        print(f"html: {args.html} ({args.html.stat().st_size / 1e6:.1f} MB)", file=out)
    return 0


def _load_journal(path: Path) -> tuple[RunResult, dict[str, Any]]:
    """Read a journal into a RunResult and its study header; the one place that reads them."""
    if not path.is_file():
        raise CliError(f"JOURNAL: file {str(path)!r} does not exist")
    from hyperband.drivers.journal import load_events, read
    from hyperband.drivers.records import RunResult

    events, _, size = read(path)
    return RunResult._of(*load_events(path, events, size)), events[0]


def _check_html(args: argparse.Namespace) -> None:
    if args.live and args.html is None:
        raise CliError("--live needs --html PATH: the report file to keep rewriting")
    if args.interval is not None and not args.live:
        raise CliError(f"--interval applies to --live only, got --interval {args.interval:g}")
    if args.html is None:
        return
    if not args.html.parent.is_dir():
        raise CliError(f"--html: folder {str(args.html.parent)!r} does not exist")


def _check_plot(path: Path) -> None:
    # Check what can be checked before printing anything, so a bad --plot is one error
    # line, not a summary followed by an error.
    folder = path.parent
    if not folder.is_dir():
        raise CliError(f"--plot: folder {str(folder)!r} does not exist")
    try:
        from hyperband.report.plots import pyplot

        pyplot()
    except ImportError as exc:
        raise CliError(f"--plot: {exc}") from None
