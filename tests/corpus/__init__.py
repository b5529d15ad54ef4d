"""A labelled resume corpus the project generates itself (see generate.py)."""
