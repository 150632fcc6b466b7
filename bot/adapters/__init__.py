"""Adapters: the only code that touches git, HTTP and the process environment."""
