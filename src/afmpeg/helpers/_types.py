"""The argument types the helpers' signatures share: input files, output files, progress callbacks."""

from __future__ import annotations

from collections.abc import Callable

from ..progress import Progress
from ..sources import Source as Source
from ..sources import Target as Target

ProgressCallback = Callable[[Progress], None]
