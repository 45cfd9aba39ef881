"""The marketplace loop: sellers' stores and service requests, dispatch, offers and orders."""

# Importing the package connects its reactions to lower domains' signals (a terminated
# membership flags the provider's open orders), wherever the process starts from.
from linkstar.core.marketplace import orders as _orders  # noqa: F401
