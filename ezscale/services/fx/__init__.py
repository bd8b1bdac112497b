"""Multi-currency: the ECB reference rates (fetched daily, stored with their date), cross rates,
converting and rounding prices, the tenant's currencies and each customer's currency, and the
rates recorded on every invoice."""
