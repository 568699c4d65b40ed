"""`ask`: the terminal edge. Renders the core's `Answer` for a person or as JSON.

May import: `core` (any floor). Nothing in `core` imports it.
"""
