"""The progress display of ``hyperband.run``: a tqdm bar, or a plain line now and then."""

from __future__ import annotations

import importlib
import math
import sys
import time
from typing import Any

from hyperband.core.jobs import Best

__all__ = ["Progress"]

# Plain progress lines (no terminal or no tqdm) come at most this often, in seconds.
_LOG_EVERY = 10.0


class Progress:
    """A tqdm bar on a terminal, else a plain stderr line at most every ``_LOG_EVERY`` s.

    The bar advances by each finished job's cost (its budget, or a stopped job's up to its
    stop), not by one: a job at budget 81 takes
    about 81 times one at budget 1, so tqdm's time left is then an estimate of the time left
    (counting jobs, it said "3 s left" with the long jobs, 7 s, still to run). The jobs done
    are shown next to it.
    """

    def __init__(
        self,
        enabled: bool,
        total: int | None,
        done: int,
        failed: int,
        total_budget: float | None = None,
        spent: float = 0.0,
    ) -> None:
        self._enabled = enabled
        self._total = total
        self._total_budget = total_budget
        self._bar: Any = None
        self._last = -math.inf
        self._done = done
        self._failed = failed
        self._spent = spent
        if not enabled:
            return
        if sys.stderr is not None and sys.stderr.isatty():
            try:
                tqdm = importlib.import_module("tqdm.auto").tqdm
            except ImportError:
                pass
            else:
                # tqdm shows float counts with all their digits: the bar shows percentages.
                fmt = (
                    None
                    if total_budget is None
                    else "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
                )
                self._bar = tqdm(
                    total=total_budget,
                    initial=spent,
                    unit="budget",
                    desc="hyperband",
                    file=sys.stderr,
                    bar_format=fmt,
                )
                self._bar.set_postfix_str(self._text(None, bar=True), refresh=False)

    def update(self, done: int, failed: int, best: Best | None, cost: float = 0.0) -> None:
        """A job finished; ``cost``: the budget it used (`hyperband.JobRecord.cost`: a stopped
        job's up to its stop, so the total agrees with the reports)."""
        if not self._enabled:
            return
        self._done, self._failed = done, failed
        self._spent += cost
        if self._bar is not None:
            self._bar.set_postfix_str(self._text(best, bar=True), refresh=False)
            self._bar.update(cost)
            return
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY:
            self._last = now
            self._line(best)

    def notice(self, text: str) -> None:
        """Print one line of news (a resumed journal) on stderr, above a tqdm bar."""
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.write(f"hyperband: {text}", file=sys.stderr)
        else:
            print(f"hyperband: {text}", file=sys.stderr, flush=True)

    def _text(self, best: Best | None, *, bar: bool) -> str:
        best_text = "none" if best is None else f"{best.value:.6g} (budget {best.budget})"
        total = "?" if self._total is None else str(self._total)
        text = f"best {best_text}, {self._failed} failed"
        if bar:
            return f"{self._done}/{total} jobs, {text}"
        of = "" if self._total_budget is None else f" of {self._total_budget:g}"
        return (
            f"hyperband: {self._done}/{total} jobs done ({self._spent:g}{of} budget units), {text}"
        )

    def _line(self, best: Best | None) -> None:
        print(self._text(best, bar=False), file=sys.stderr, flush=True)

    def close(self, best: Best | None, *, complete: bool = False) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            if complete and self._total_budget is not None:
                # Failed jobs are not promoted, so a study can end short of its scheduled budget.
                self._bar.total = self._bar.n
                self._bar.refresh()
            self._bar.close()
        else:
            self._line(best)
