"""The argument types the helpers' signatures share: input files, output files, progress callbacks."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..progress import Progress

#: What a helper may be given as an input file.
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | tuple[Any, str]
#: What a helper may be given as an output file.
Target = str | os.PathLike[str] | tuple[Any, str]
ProgressCallback = Callable[[Progress], None]
