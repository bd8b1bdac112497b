"""Reseller tenants as EZSCALE's customers: lifecycle, their dashboard, wholesale invoices and
payments.
"""
