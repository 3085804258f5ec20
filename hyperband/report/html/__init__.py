"""The interactive HTML report of a study (``hyperband report JOURNAL --html PATH``).

One self-contained file: plotly.js (from the optional ``report`` extra, imported only when a
report is written), the page's own script and style, and the study's data are inlined, so it
opens offline. ``._data`` extracts what the charts show (no plotly), ``._figures`` turns
it into plotly figure specs (plain dicts), ``._page`` assembles and writes the page.
"""

from hyperband.report.html.page import EXTRA, html_report, live, plotly_js, render, write_atomic

__all__ = ["EXTRA", "html_report", "live", "plotly_js", "render", "write_atomic"]
