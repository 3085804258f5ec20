"""The drivers: ``run()`` and its event loop, executors, the report channel, the journal,
records, checkpoints and ``simulate()``. They move the core machine and add no scheduling
logic of their own (see docs/architecture.md).
"""
