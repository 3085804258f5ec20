"""The interactive HTML report of a study (``hyperband report JOURNAL --html PATH``).

One self-contained file: plotly.js (a bundle of its scatter, bar and parcoords traces that
ships in this package, ``plotly-custom.min.js``; ``tools/plotly/`` rebuilds it), the page's own
script and style, and the study's data are inlined, so it opens offline. ``.data`` extracts
what the charts show, ``.figures`` turns it into plotly figure specs (plain dicts), ``.page``
assembles and writes the page. No optional package is needed.
"""

from hyperband.report.html.page import EXTRA, html_report, live, plotly_js, render, write_atomic

__all__ = ["EXTRA", "html_report", "live", "plotly_js", "render", "write_atomic"]
