"""The shared core: settings, the store contract, embeddings, search and answers.

Nothing in here knows about Slack or the terminal; `ingest`, `ask` and `bot` are thin
edges around it.
"""
