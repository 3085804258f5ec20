"""The report layer: text summaries, budget accounting, matplotlib figures and the HTML
report, all read from a ``RunResult`` (see docs/architecture.md).
"""
