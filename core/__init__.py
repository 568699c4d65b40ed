"""The library core: records, settings, and the read side of the archive.

Nothing in here knows about Slack or the terminal; `ingest`, `ask` and `bot` are thin edges
around it. The subpackages stand on floors; a package imports only from floors below it
(checked by `tests/test_layers.py`, drawn in `docs/architecture.md`):

    core.service, core.retriever   wiring: settings -> encoder -> store -> search
    core.written                   a chat model's written answer, each sentence checked
    core.answer                    passages -> Answer: the relevance floor, the lead, quotes
    core.search                    the search seam, its engines, the live archive, the searcher
    core.store                     the archive store seam and its Chroma implementation
    core.encode                    the encoders: registry, backends, weights checks
    core.language                  sentences, words, numbers: pure functions of text
    core.errors, core.models, core.settings, core.console   records, settings, errors
"""
