"""Adapters to other engines (NNI, dask, Optuna); each imports its engine lazily, on first
use. The top layer (see docs/architecture.md).
"""
