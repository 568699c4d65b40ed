"""How rare a word is in English at large: a prior that does not depend on the archive.

IDF measured on a handful of articles says little: on a 6-article store a common word the
archive happens not to hold ("many", "tomorrow") looks as rare as a name. The relevance
floor weighs a question's words by the lesser of the two rarities, the archive's and this
one (word frequencies from the `wordfreq` package: Wikipedia, subtitles, news, books and
web text; its data ships inside the package, nothing is downloaded).
"""

from __future__ import annotations

from functools import lru_cache

from wordfreq import zipf_frequency

# Zipf frequency is log10 of occurrences per billion words: ~7.7 for "the", 0 for unseen.
_TOP_ZIPF = 8.0


@lru_cache(maxsize=100_000)
def rarity(term: str) -> float:
    """0 for the commonest English words, 1 for words English text (almost) never uses."""
    return max(0.0, min(1.0, (_TOP_ZIPF - zipf_frequency(term, "en")) / _TOP_ZIPF))
