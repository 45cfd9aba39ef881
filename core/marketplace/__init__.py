"""The marketplace loop: sellers' stores and service requests, dispatch, offers and orders."""
