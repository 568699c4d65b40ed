"""Pure functions of text: sentences with offsets, index terms, numbers, word rarity.

Owns: how text is split and tokenized, the same way for ingest, search and answers.
May import: the standard library and third-party text packages; nothing else of ours.
"""
