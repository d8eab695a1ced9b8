"""Certificate codes: 15 random Crockford base32 characters and a check character.

Shown as ``ABCD-EFGH-JKMN-PQRS``. The alphabet leaves out I, L, O and U; people who type a
code anyway get the letters read as Crockford says (I and L as 1, O as 0), in any case, with
or without dashes and spaces. The check character (Luhn mod 32) catches every single mistyped
character and most swaps of two neighbours, so a typo is "not a code" rather than someone
else's certificate. 75 random bits: unguessable, and the unique index makes a collision an
error, never a shared code.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 15
LENGTH = RANDOM_LENGTH + 1
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_TYPED_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def _check_character(body: str) -> str:
    """Luhn mod N over the alphabet (N = 32): every second value from the right is doubled
    and its base-32 digits summed."""
    total = 0
    double = True
    for char in reversed(body):
        value = _VALUE[char]
        if double:
            value *= 2
            value = value // 32 + value % 32
        total += value
        double = not double
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh code, stored form (16 characters, no dashes)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + _check_character(body)


def normalize(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be a certificate code."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    code = text.strip().upper().translate(_TYPED_AS)
    if len(code) != LENGTH or any(char not in _VALUE for char in code):
        return None
    if _check_character(code[:-1]) != code[-1]:
        return None
    return code


def display(code: str) -> str:
    """``ABCD-EFGH-JKMN-PQRS``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
