"""``python -m online_lstm`` is the ``online-lstm`` command."""

import sys

from .cli import main

sys.exit(main())
