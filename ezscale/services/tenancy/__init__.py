"""Tenants and how requests find them: tenant lifecycle and databases, domains, branding and brand
assets.
"""
