"""Stand-ins and scaffolding shared by the tests and the benches.

Slack (`slack_standin`), an OpenAI-compatible chat model (`llm_standin`), a newsroom site
(`site`), a real `chroma run` server (`chroma_server`), and stores built through the real
ingest pipeline with no developer settings (`stores`, `console`).

May import `core`, `ingest` and `bot` (and test-only libraries such as websockets); never
`tests` nor `bench`, which both import from here.
"""
