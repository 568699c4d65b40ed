"""Written answers: a chat model writes from the passages; each sentence is checked.

Owns: the prompt, the chat-model wire and budget, and the sentence check: `parse` (text ->
cited sentences), `wording` (words as compared), `source` (a passage and its lookups),
`verify` (numbers, names, words, negation). Components take `AnswerSettings`.
May import: `core.answer`, `core.encode` (the weights check), `core.language`, records and
settings.
"""
