"""Passwords for the encrypted ZIP files: random, long, and easy to read out or type from the screen."""

import secrets

# No look-alikes: 0 O o D Q, 1 l I i j, 2 Z z, 5 S s, 8 B, 6 G b, 9 g q, u v V U W w x X, and no lower case letter
# whose capital looks the same (c k y); no symbols, which read differently on the phone and move between keyboards.
ALPHABET = "ACEFHJKLMNPRTYadefhmnprt347"
LENGTH = 24  # log2(27) × 24 ≈ 114 bits; typed in groups of four from the screen
GROUP = 4


def generate_password(length: int = LENGTH) -> str:
    """A new password of `length` characters from ALPHABET (at least 20)."""
    if length < 20:
        raise ValueError("an export password has at least 20 characters")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def grouped(password: str, size: int = GROUP) -> str:
    """The password as shown for reading: groups of four separated by spaces (the spaces are not part of it)."""
    return " ".join(password[i : i + size] for i in range(0, len(password), size))
