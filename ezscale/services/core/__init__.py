"""Cross-cutting services every domain uses: audit trail, secret encryption, mail outbox, PDF
rendering, alerts.
"""
