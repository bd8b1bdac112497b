"""Payment gateways behind one interface: Stripe, PayPal (Orders v2 + Vault v3), BTCPay Server
(Greenfield); each tenant's gateway accounts; one-off checkouts of invoices; gateway webhooks."""
