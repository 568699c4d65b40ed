"""Written answers: a chat model writes from the passages; each sentence is checked.

Owns: the prompt, the chat-model wire and budget, the sentence check (numbers, names).
May import: `core.answer`, `core.encode` (the weights check), `core.language`, records and
settings.
"""
