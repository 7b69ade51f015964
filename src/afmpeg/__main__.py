"""``python -m afmpeg``: the same as the ``afmpeg`` command (see :mod:`afmpeg.cli`)."""

import sys

from .cli import main

sys.exit(main())
