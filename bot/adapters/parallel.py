"""Spread a pure function over the machine's cores, for big batches only.

``status`` on a cold cache parses every manifest once; on 3,000 manifests that is most of
its run time, and it splits cleanly across processes. Small batches stay in-process: a
fork costs more than it saves below a few hundred items.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

MIN_ITEMS = 400


def process_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[fn(x) for x in items]``, in several forked processes when the batch is big enough.

    ``fn`` must be a module-level function; the order of results is the order of ``items``.
    """
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(items) < MIN_ITEMS or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(item) for item in items]
    chunk = (len(items) + workers - 1) // workers
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(fn, items, chunksize=chunk)
