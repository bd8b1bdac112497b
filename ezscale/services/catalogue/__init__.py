"""What is sold: default plans, the plan editor, resellers' retail prices and the storefront's view of
them.
"""
