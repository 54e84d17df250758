"""The QBO webhook bridge: signed Intuit webhooks and CDC sweeps become QBO change events."""
