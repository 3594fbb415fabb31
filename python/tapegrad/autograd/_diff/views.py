"""Formulas for the shape, view, index and matmul ops (see __init__.py)."""
