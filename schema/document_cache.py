"""Parsing and validation of a repeated document done once, not on every request.

graphql-core's parse and validate are pure functions of the document text (with the parse
options, e.g. the token limit) and of the schema and rules: a client that sends the same
query again gets the same document and the same verdict. Only documents that parsed and
validated without error are kept, so every refusal (QUERY_TOO_LARGE, QUERY_TOO_DEEP, …) is
still computed, and coded, afresh for each request. Bounded (LRU), shared by all requests of
the process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

MAX_DOCUMENTS = 256
MAX_CACHED_TEXT = 100_000  # characters; longer documents are parsed every time


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_documents = _LRU(MAX_DOCUMENTS)
_valid = _LRU(MAX_DOCUMENTS)


class DocumentCache(SchemaExtension):
    """Hands a repeated query its parsed document and skips re-validating a valid one.

    Must run after the extensions that set parse options and validation rules (they do so in
    `on_operation`, before parsing); the keys include both, so a changed limit is a miss.
    """

    def _key(self) -> tuple[Any, ...] | None:
        execution = self.execution_context
        query = execution.query
        if not query or len(query) > MAX_CACHED_TEXT:
            return None
        # the schema itself (not its id, which a later schema could reuse)
        return (execution.schema, query, tuple(sorted(execution.parse_options.items())))

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        key = self._key()
        if key is not None and execution.graphql_document is None:
            execution.graphql_document = _documents.get(key)
        yield
        if (
            key is not None
            and execution.graphql_document is not None
            and not (execution.pre_execution_errors)
        ):
            _documents.put(key, execution.graphql_document)

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        key = self._key()
        if key is not None:
            key = (*key, tuple(execution.validation_rules))
            if _valid.get(key) is not None and execution.pre_execution_errors is None:
                execution.pre_execution_errors = []  # strawberry skips validating
                key = None
        yield
        if key is not None and execution.pre_execution_errors == []:
            _valid.put(key, True)
