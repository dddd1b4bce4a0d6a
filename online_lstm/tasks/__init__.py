"""Task generators for the paper's experiments (spec §5), one module per experiment.

Every generator is a seeded stream of sequences (:class:`SequenceTask`);
``task.sample(n)`` returns the next ``n`` sequences as a :class:`Batch`
laid out for :meth:`online_lstm.OnlineLSTM.learn_many` (rows = steps, a
reset at each sequence start, NaN where the paper gives no target).  Each
module's docstring documents its input and target coding.

==========================  ====================================  ==========
experiment                  generator                             module
==========================  ====================================  ==========
1  embedded Reber grammar   :class:`EmbeddedReber`                reber
2a/2b/2c long time lags     :class:`Task2a`, :class:`Task2b`,     long_lag
                            :class:`Task2c`
3a/3b/3c 2-sequence         :class:`TwoSequence`                  two_sequence
4  adding                   :class:`Adding`                       adding
5  multiplication           :class:`Multiplication`               multiplication
6a/6b temporal order        :class:`TemporalOrder`                temporal_order
(§7.1) continual embedded   :class:`ContinualReber` (chunks of a  continual_reber
Reber, never reset          stream, not a SequenceTask)
==========================  ====================================  ==========
"""

from ._base import Batch, SequenceTask
from .adding import Adding
from .continual_reber import ContinualReber
from .long_lag import Task2a, Task2b, Task2c
from .multiplication import Multiplication
from .reber import EmbeddedReber
from .temporal_order import TemporalOrder
from .two_sequence import TwoSequence

__all__ = ["Batch", "SequenceTask", "EmbeddedReber", "Task2a", "Task2b", "Task2c",
           "TwoSequence", "Adding", "Multiplication", "TemporalOrder", "ContinualReber"]
