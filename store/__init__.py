"""tracktui's store layer: MLflow tracking data from SQL, `mlruns` trees and tracking servers.

A library: no UI, no printing, never imports mlflow.
"""

from .base import Store
from .errors import (
    AuthFailed,
    DestinationExists,
    DownloadCancelled,
    FilterSyntaxError,
    HostNotAllowed,
    InvalidValue,
    NotFound,
    PermissionDenied,
    ReadOnlyError,
    SchemaError,
    ServerError,
    StoreError,
    Unreachable,
    UnsafePath,
    UnsupportedURI,
)
from .model import Experiment, Keys, MetricPoint, Page, Run
from .traces import Assessment, Span, SpanEvent, Trace, TraceInfo
from .uris import mask_uri, open_store, resolve_tracking_uri

__all__ = [
    "AuthFailed", "DestinationExists", "DownloadCancelled", "Experiment", "FilterSyntaxError",
    "HostNotAllowed", "InvalidValue", "Keys", "MetricPoint", "NotFound", "Page",
    "PermissionDenied", "ReadOnlyError", "Run", "SchemaError", "ServerError", "Store", "StoreError",
    "Unreachable", "UnsafePath", "UnsupportedURI", "mask_uri", "open_store",
    "resolve_tracking_uri", "Assessment", "Span", "SpanEvent", "Trace", "TraceInfo",
]
