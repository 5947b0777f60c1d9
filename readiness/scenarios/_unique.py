"""Unique, random-looking digit strings from a record counter: no set, no memory growth.

Counter i maps to a digit string through a seeded permutation of its block, so each
index gets its own string and neighbouring indices look unrelated. A permutation of
0..10**n - 1 is an affine map (multiplier coprime to 10), the digits reversed, and a
second affine map: each step is a bijection, so the whole is one.
"""

from __future__ import annotations

import random

_FIRST_WIDTH = 3  # growing suffixes start with 3 digits: 1,000 records, then 4 digits, ...


class ScrambledDigits:
    """Digit strings, one per record index, seeded; never equal for different indices."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._maps: dict[int, tuple[int, int, int, int]] = {}
        self._block = (0, 10 ** _FIRST_WIDTH, _FIRST_WIDTH)  # start, end, width

    def fixed(self, index: int, width: int) -> str:
        """`width` digits; unique for the first 10**width indices, then they repeat."""
        return self._permute(index % 10 ** width, width)

    def growing(self, index: int) -> str:
        """3 digits for the first 1,000 indices, 4 for the next 10,000, ...: always unique."""
        start, end, width = self._block
        if not start <= index < end:
            start, width = 0, _FIRST_WIDTH
            while index >= start + 10 ** width:
                start += 10 ** width
                width += 1
            self._block = (start, start + 10 ** width, width)
        return self._permute(index - start, width)

    def _permute(self, value: int, width: int) -> str:
        maps = self._maps.get(width)
        if maps is None:
            maps = self._maps[width] = _affine_pair(f"{self._seed}/{width}", 10 ** width)
        modulus = 10 ** width
        first = f"{(maps[0] * value + maps[1]) % modulus:0{width}d}"[::-1]
        return f"{(maps[2] * int(first) + maps[3]) % modulus:0{width}d}"


def _affine_pair(seed: str, modulus: int) -> tuple[int, int, int, int]:
    rng = random.Random(seed)
    return (_unit(rng, modulus), rng.randrange(modulus), _unit(rng, modulus),
            rng.randrange(modulus))


def _unit(rng: random.Random, modulus: int) -> int:
    """A multiplier coprime to 10 (odd, not a multiple of 5), hence invertible mod 10**n."""
    value = rng.randrange(modulus) | 1
    return value + 2 if value % 5 == 0 else value
