"""The HTTP edge: Starlette routes beside Reflex's own (site assets, webhooks, reports, impersonation)
and the origin guard.
"""
