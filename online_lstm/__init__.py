"""online_lstm: the original LSTM (Hochreiter & Schmidhuber 1997), trained online.

Memory-cell blocks with input and output gates around constant error
carousels, trained one input at a time with the paper's truncated
forward-mode (RTRL-style) gradient in Numba-compiled loops.
"""

from .bank import BankDivergenceError, LearnerBank
from .errors import (
    CheckpointError, ClusterError, DivergenceError, InputError, NoPendingStepError, ResumeError,
)
from .layout import Layout
from .learner import OnlineLSTM

__version__ = "0.1.0"

__all__ = ["OnlineLSTM", "LearnerBank", "Layout", "InputError", "DivergenceError", "NoPendingStepError",
           "BankDivergenceError", "CheckpointError", "ClusterError", "ResumeError", "__version__"]
