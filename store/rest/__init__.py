"""An MLflow tracking server over its REST API, with httpx.

`store.py` is the Store; `transport.py` does HTTP (auth, TLS, retries, limits), `decode.py`
turns protobuf JSON into store values, the other modules each hold one part (writes, traces).
"""

from .store import RestStore

__all__ = ["RestStore"]
