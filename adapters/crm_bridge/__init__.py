"""How CRM changes reach the engine besides Kafka: webhook bridge, poller, HTTP ingest."""
