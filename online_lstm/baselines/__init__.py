"""The paper's competitors, as streaming learners with OnlineLSTM's API.

* :class:`RTRL`: Williams & Zipser's real-time recurrent learning, the exact
  online gradient (Tables 1 and 2).
* :class:`BPTT`: back-propagation through time, online, truncated to a
  window (Table 2).

Both run on recurrent nets of logistic units described by
:class:`~online_lstm.baselines.network.Network`: Williams & Zipser's fully
recurrent net or the layered net of Task 2a.
"""

from .bptt import BPTT
from .network import ARCHITECTURES, Network
from .rtrl import RTRL

__all__ = ["RTRL", "BPTT", "Network", "ARCHITECTURES"]
