"""Pricing: the bundled table, user overrides, model matching, exact costs and their provenance.

See docs/pricing.md. Entry point: :func:`burn.pricing.load.load_pricing`.
"""
