"""Process-wide Prometheus metrics and the current request's id.

The metric objects live in the kernel so every domain can time its own work (evaluations,
deliveries) without knowing how metrics are exported; `core.runtime.observability` serves them.

With several server processes (`linkstar serve --workers N`) the command sets
`PROMETHEUS_MULTIPROC_DIR` before anything imports this module, so every worker writes its
samples to that directory and `/metrics` on any worker reports the sum over all of them.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram

# The id of the request being served, for log records and error reports ("" outside one).
request_id: ContextVar[str] = ContextVar("linkstar_request_id", default="")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "linkstar_http_requests",
    "HTTP requests answered, by route and status code.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "linkstar_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "linkstar_graphql_operations",
    "GraphQL operations, by operation name, type and outcome (ok, error, rejected).",
    ["operation", "type", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "linkstar_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation, by operation name and type.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
DB_CONNECTIONS_IN_USE = Gauge(
    "linkstar_db_pool_connections_in_use",
    "Database connections checked out of the pool (summed over live processes).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "linkstar_db_pool_size",
    "Configured size of the database connection pool (summed over live processes).",
    multiprocess_mode="livesum",
)
EVALUATION_SECONDS = Histogram(
    "linkstar_evaluation_duration_seconds",
    "Time to evaluate one category for one period (scorecards, alerts), by category.",
    ["category"],
    buckets=JOB_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "linkstar_events_fanned_out",
    "Domain events handed to live subscribers in this process, by event type.",
    ["event_type"],
)
WEBHOOK_DELIVERIES = Counter(
    "linkstar_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retry, dead).",
    ["outcome"],
)


_UNREACHABLE = ("OperationalError", "InterfaceError", "DBAPIError")


def log_failure(logger: logging.Logger, message: str) -> None:
    """Log the exception being handled by a background loop that will retry.

    A database that is away (stopped, frozen, restarting) is an expected, recoverable state:
    one warning line naming the error, never a traceback. Anything else is a bug and is logged
    with its traceback."""
    error = sys.exc_info()[1]
    unreachable = isinstance(error, OSError | TimeoutError) or any(
        cls.__name__ in _UNREACHABLE for cls in type(error).__mro__
    )
    if unreachable:
        logger.warning("%s: %s (database unavailable; retrying)", message, type(error).__name__)
    else:
        logger.exception(message)
