"""Formulas for the nn ops (see __init__.py)."""
