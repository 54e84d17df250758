"""A QuickBooks Online simulator: a real HTTP server speaking QBO's v3 API, OAuth 2 and webhooks.

Behaviour follows ../shared/reference/qbo-api.md. Run with `qbsync sandbox qbo`.
"""
