"""online_lstm: the original LSTM (Hochreiter & Schmidhuber 1997), trained online.

Memory-cell blocks with input and output gates around constant error
carousels, trained one input at a time with the paper's truncated
forward-mode (RTRL-style) gradient in Numba-compiled loops.
"""

from .errors import CheckpointError, DivergenceError, InputError, NoPendingStepError
from .layout import Layout
from .learner import OnlineLSTM

__version__ = "0.1.0"

__all__ = ["OnlineLSTM", "Layout", "InputError", "DivergenceError", "NoPendingStepError",
           "CheckpointError", "__version__"]
