"""Billing core (issue 5): catalogue prices, subscriptions, invoices, credit, Stripe, runs, dunning."""
