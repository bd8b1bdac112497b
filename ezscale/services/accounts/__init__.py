"""People and how they sign in: customers, reseller staff and platform admins; passwords, sessions,
login guard, TOTP, passkeys, invitations.
"""
