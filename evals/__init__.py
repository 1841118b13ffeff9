"""Evaluation of Kronoberg-assistenten: `python -m evals run | report | bench`."""
