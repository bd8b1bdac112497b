"""Platform and reseller analytics: MRR, ARR, churn, revenue, usage; daily snapshots, dashboards and
CSV reports.
"""
