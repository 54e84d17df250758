"""The engine's QuickBooks Online adapter: the QboGateway port and its httpx implementation.

Entry points: `QboConnector(settings)` wires everything from configuration; `.oauth` runs the
connect flow; `.client(tenant_id, realm_id)` is a `QboGateway`; `connection.test_connection`
tells an admin whether (and why not) the connection works.
"""
