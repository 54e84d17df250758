"""Pipeline CRM adapter: the engine's CRM client (httpx) behind the `CrmGateway` port."""
