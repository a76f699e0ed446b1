"""The legacy `./mlruns` file store, read and written as mlflow 1.x-3.x lay it out.

`store.py` is the Store; `layout.py` says where each thing lives in the tree, `meta.py` reads
`meta.yaml`, the other modules each hold one part (metrics, run data, caches, writes, traces).
"""

from .store import FileStore

__all__ = ["FileStore"]
