"""Passages -> Answer: the relevance floor, the lead sentence, the quoted passages.

Owns: what a question asks for, which sentence leads, what is quoted.
May import: `core.search`, `core.language`, records and settings.
"""
