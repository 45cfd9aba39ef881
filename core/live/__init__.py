"""Live: domain events fanned out to subscribers and webhooks.

Importing any part of this package installs the webhook outbox writer (`outbox.install`):
every flush that adds provider events also adds their deliveries, in the same transaction.
"""

from linkstar.core.live import outbox

outbox.install()
