"""Task generators for the paper's experiments (spec §5), one module per experiment."""

from .long_lag import task_2c_batch

__all__ = ["task_2c_batch"]
