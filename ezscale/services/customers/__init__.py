"""The admin's view of customers across tenants: directory, record view and actions."""
