"""Numbers in running text, read the same way whatever their spelling.

"twelve", "12", "a dozen" and "12th" are one number; "twenty-five", "25" and "25th" another;
"12k", "12 thousand" and "12,000" one more; "1.2m" is 1,200,000; "-12" is not 12; "half"
and "1/2" are 0.5; "two-thirds" is 0.667. The verifier compares numbers in this form, so a
model cannot slip a figure past it by writing it out.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
    "hundredth": 100,
}  # fmt: skip
# "two-thirds", "three quarters": a number before a plural ordinal is a fraction.
_FRACTIONS = {
    "halves": 2, "thirds": 3, "quarters": 4, "fourths": 4, "fifths": 5, "sixths": 6,
    "sevenths": 7, "eighths": 8, "ninths": 9, "tenths": 10,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12,
}  # fmt: skip
# Suffixes glued to digits: "12k", "12bn", "1.2m", "3tn" (other letters, "12km", "3pm",
# "1990s", "3rd", leave the number as written).
_SUFFIXES = {"k": 1000, "m": 10**6, "mn": 10**6, "bn": 10**9, "b": 10**9, "tn": 10**12}
# "no one", "the one who": the pronoun, not the number.
_NOT_NUMBER_BEFORE_ONE = frozenset(
    "no any every each some this that the which another anyone someone".split()  # noqa: SIM905
)
_CURRENCIES = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
# Every word that is (part of) a number: the verifier checks these as numbers, not words.
NUMBER_WORDS = frozenset([*_UNITS, *_TENS, *_ORDINALS, *_FRACTIONS, *_SCALES, "dozen", "half"])
_PIECE = re.compile(
    r"(?P<sign>(?:^|(?<=[\s(]))[-−](?=\d))"
    r"|(?P<digits>\d[\d,]*(?:\.\d+)?(?:/\d+)?)(?P<suffix>[^\W\d_]*)"
    r"|(?P<word>[^\W\d_][\w'’.]*)"
    r"|(?P<currency>[$€£¥])"
    r"|(?P<percent>%)",
)


def read_tokens(text: str) -> list[str]:
    """The text as tokens in order: numbers as "#value" ("#12", "#0.5", "#-12",
    "#1200000"), every other word lower-cased (hyphenated words apart; "$" is "dollars",
    "%" is "percent")."""
    raw = _raw_tokens(text)
    out: list[str] = []
    index = 0
    while index < len(raw):
        taken, value = _read_number(raw, index)
        if taken:
            out.append(f"#{_canonical(value)}")
            index += taken
        else:
            out.append(raw[index])
            index += 1
    return out


def _raw_tokens(text: str) -> list[str]:
    out: list[str] = []
    negative = False
    for match in _PIECE.finditer(text):
        if match["sign"]:
            negative = True
            continue
        if match["currency"]:
            out.append(_CURRENCIES[match["currency"]])
        elif match["percent"]:  # "40%" is "40 percent"
            out.append("percent")
        elif match["digits"]:
            if not _fraction(match["digits"]):  # "2024/25", "24/7": two numbers
                out += [f"={_digits(part, '')}" for part in match["digits"].split("/")]
                continue
            value = _digits(match["digits"], match["suffix"].lower())
            if value is not None:
                out.append(f"={-value if negative else value}")
            elif match["suffix"]:
                out.append(match["suffix"].lower())
        else:
            out.append(match["word"].lower().rstrip("."))
        negative = False
    return out


def _fraction(digits: str) -> bool:
    """No slash, or a fraction as people write one: "1/2", "3/4", "2/3"."""
    if "/" not in digits:
        return True
    top, bottom = digits.split("/")
    return top.isdigit() and bottom.isdigit() and 0 < int(top) < int(bottom) <= 16


def _digits(digits: str, suffix: str) -> Decimal | None:
    digits = digits.rstrip(",")
    try:
        if "/" in digits:
            top, bottom = digits.replace(",", "").split("/")
            value = Decimal(top) / Decimal(bottom)
        else:
            value = Decimal(digits.replace(",", ""))
    except (InvalidOperation, ZeroDivisionError):
        return None
    return value * _SUFFIXES.get(suffix, 1)


def _read_number(raw: list[str], start: int) -> tuple[int, Decimal]:
    """How many raw tokens from `start` form one number, and its value (0 tokens: none)."""
    token = raw[start]
    previous = raw[start - 1] if start else ""
    if token.startswith("="):
        value, taken = Decimal(token[1:]), 1
    elif token == "half":
        return 1, Decimal("0.5")
    elif token == "one" and previous in _NOT_NUMBER_BEFORE_ONE:
        return 0, Decimal(0)
    elif token in _ORDINALS:
        return 1, Decimal(_ORDINALS[token])
    elif token == "dozen" or token in _SCALES:
        value, taken = Decimal(1), 0
    else:
        taken, value = _read_words(raw, start)
        if not taken:
            return 0, Decimal(0)
    # "3.5 million", "two dozen", "2 and a half", "two-thirds"
    rest = raw[start + taken :]
    while rest and (rest[0] in _SCALES or rest[0] == "dozen"):
        value *= _SCALES.get(rest[0], 12)
        taken += 1
        rest = rest[1:]
    if rest[:3] == ["and", "a", "half"]:
        return taken + 3, value + Decimal("0.5")
    if rest and rest[0] in _FRACTIONS and value:
        return taken + 1, value / _FRACTIONS[rest[0]]
    return taken, value


def _read_words(raw: list[str], start: int) -> tuple[int, Decimal]:
    """A number spelled in words: "twenty five", "two hundred and six", "twenty-first".
    A unit after a unit starts another number: "seven zero" is 7 then 0."""
    value = 0
    taken = 0
    last = ""  # "unit", "tens", "hundred"
    for token in raw[start:]:
        if token in _UNITS and last in ("", "hundred") or token in _UNITS and last == "tens":
            if last == "tens" and _UNITS[token] >= 10:
                break
            value += _UNITS[token]
            last = "unit"
        elif token in _ORDINALS and last in ("tens", "hundred") and _ORDINALS[token] < 10:
            value += _ORDINALS[token]
            taken += 1
            break
        elif token in _TENS and last in ("", "hundred"):
            value += _TENS[token]
            last = "tens"
        elif token == "hundred" and last in ("unit", "tens") and value % 100:
            value = value // 100 * 100 + value % 100 * 100
            last = "hundred"
        elif token == "and" and last == "hundred" and _spelled(raw, start + taken + 1):
            pass
        else:
            break
        taken += 1
    return taken, Decimal(value)


def _spelled(raw: list[str], index: int) -> bool:
    return index < len(raw) and (raw[index] in _UNITS or raw[index] in _TENS)


def _canonical(value: Decimal) -> str:
    """One spelling per value: no exponent, no trailing zeros, fractions to 3 places."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.quantize(Decimal("0.001")).normalize(), "f")
