"""Protobuf Timestamp and Duration to and from Python values: the one place for it.

An unset Timestamp (the epoch, all zero) reads back as None, so an optional time
needs no presence bit on the wire.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import duration_pb2, timestamp_pb2


def to_timestamp(moment: datetime | float | None) -> timestamp_pb2.Timestamp | None:
    """An aware datetime or Unix seconds as a Timestamp; None stays None."""
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    if isinstance(moment, datetime):
        stamp.FromDatetime(moment)
    else:
        stamp.FromNanoseconds(int(moment * 1e9))
    return stamp


def to_datetime(stamp: timestamp_pb2.Timestamp) -> datetime:
    """An aware UTC datetime."""
    return stamp.ToDatetime(tzinfo=UTC)


def to_optional_datetime(stamp: timestamp_pb2.Timestamp) -> datetime | None:
    """An aware UTC datetime; None for an unset Timestamp."""
    return to_datetime(stamp) if stamp.seconds or stamp.nanos else None


def to_unix(stamp: timestamp_pb2.Timestamp) -> float:
    """Unix seconds (0.0 for an unset Timestamp)."""
    return stamp.ToNanoseconds() / 1e9


def to_duration(seconds: float) -> duration_pb2.Duration:
    """Seconds as a Duration; negative spans are clamped to zero."""
    span = duration_pb2.Duration()
    span.FromNanoseconds(int(max(seconds, 0.0) * 1e9))
    return span


def to_seconds(span: duration_pb2.Duration) -> float:
    return span.ToNanoseconds() / 1e9
