"""The import job's parts (SYNC-RULES 4): reading both sides, deciding each customer's writes,
the envelopes it publishes, and its summary. `streams/importer.py` runs them."""
