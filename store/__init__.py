"""tracktui's store layer: MLflow tracking data from SQL, `mlruns` trees and tracking servers.

A library: no UI, no printing, never imports mlflow.
"""

from .base import Store
from .errors import (
    AuthFailed,
    FilterSyntaxError,
    InvalidValue,
    NotFound,
    ReadOnlyError,
    SchemaError,
    StoreError,
    Unreachable,
    UnsafePath,
    UnsupportedURI,
)
from .model import Experiment, Keys, MetricPoint, Page, Run
from .traces import Assessment, Span, SpanEvent, Trace, TraceInfo
from .uris import mask_uri, open_store, resolve_tracking_uri

__all__ = [
    "AuthFailed", "Experiment", "FilterSyntaxError", "InvalidValue", "Keys", "MetricPoint",
    "NotFound", "Page", "ReadOnlyError", "Run", "SchemaError", "Store", "StoreError",
    "Unreachable", "UnsafePath", "UnsupportedURI", "mask_uri", "open_store",
    "resolve_tracking_uri", "Assessment", "Span", "SpanEvent", "Trace", "TraceInfo",
]
