"""Formulas for the ewise ops (see __init__.py)."""
