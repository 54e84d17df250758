"""Recording link decisions: see `store.customer_link.record_link_decision`."""

from store.customer_link import LinkEnded, record_link_decision

__all__ = ["LinkEnded", "record_link_decision"]
