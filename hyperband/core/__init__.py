"""The core: the schedule, the ask/tell machine and its promotion disciplines, stopping
rules, search spaces and the sampler protocol. numpy and attrs only; no I/O, clock, threads or
global RNG. The lowest layer: it imports nothing from the others (see docs/architecture.md).
"""
