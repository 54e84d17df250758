"""A Pipeline CRM simulator: a real HTTP server speaking Pipeline's REST API v3 and webhooks.

Behaviour follows ../shared/reference/pipeline-crm-api.md (sections 1-4 and 6). Where the
reference is silent, each module's docstring says what was chosen and why. Run with
`qbsync sandbox crm`, or `create_app(CrmSandboxConfig())` in process.
"""
