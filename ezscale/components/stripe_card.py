"""The Stripe card form's browser script, shared by the customer billing page and the reseller
overview (both save a card on file the same way)."""

CARD_JS = "/billing-card.js"
