"""The encoders that turn chunks and questions into vectors.

Owns: which encoders exist, what each declares as its identity and what it is compatible
with, loading the bundled weights (checked by sha256) or a user's model folder.
May import: `core.errors`, `core.settings`.
"""
