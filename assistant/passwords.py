"""Password hashes for the app's login: scrypt from the standard library.

A stored hash reads `scrypt:N:r:p:SALT:HASH` (SALT and HASH in unpadded URL-safe base64), so it
holds no character that a shell, a systemd unit, TOML or the `user:hash,user:hash` form of
KRONOBERG_USERS treats specially. The cost parameters travel with the hash: raising them later
does not invalidate the hashes already written.

    stored = hash_password("lösen")        # what `kronoberg passwd anna` prints
    verify_password("lösen", stored)       # True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "scrypt"
# N = 2**15, r = 8: 32 MiB and about 0.1 s per check on this machine's cores. The bounds below keep a
# hash in the configuration from asking for more than 256 MiB or absurd work per login attempt.
N, R, P = 2**15, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
MAX_N, MAX_R, MAX_P = 2**18, 32, 16
MAX_MEMORY = 256 * 2**20


class HashFormatError(ValueError):
    """A value that is not a hash written by `hash_password` (the message is Swedish, without the value)."""


def hash_password(password: str, n: int = N, r: int = R, p: int = P) -> str:
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p)
    return f"{SCHEME}:{n}:{r}:{p}:{_b64(salt)}:{_b64(digest)}"


def looks_like_hash(value: str) -> bool:
    """Whether the value is meant as a hash (starts with the scheme), well-formed or not."""
    return value.startswith(SCHEME + ":")


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """(N, r, p, salt, hash) of a stored hash, or HashFormatError saying what is wrong."""
    parts = stored.split(":")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise HashFormatError("hashen ska ha formen scrypt:N:r:p:salt:hash")
    try:
        n, r, p = (int(x) for x in parts[1:4])
    except ValueError:
        raise HashFormatError("hashens parametrar N, r och p ska vara heltal") from None
    if n < 2 or n & (n - 1) or n > MAX_N or not 1 <= r <= MAX_R or not 1 <= p <= MAX_P \
            or 128 * r * n > MAX_MEMORY:
        raise HashFormatError(f"hashens parametrar ligger utanför det tillåtna (N en tvåpotens ≤ {MAX_N}, "
                              f"r ≤ {MAX_R}, p ≤ {MAX_P})")
    try:
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        raise HashFormatError("hashens salt eller värde är inte giltig base64") from None
    if len(salt) < 8 or len(digest) < 16:
        raise HashFormatError("hashens salt eller värde är för kort")
    return n, r, p, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, in constant time for a given hash."""
    try:
        n, r, p, salt, digest = parse_hash(stored)
    except HashFormatError:
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(digest)), digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=128 * r * n + 2**20, dklen=length)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64 for c in text):
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Verifier:
    """Checks a login against the configured (user, hash) pairs.

    An unknown user is checked against a dummy hash of the same cost, so the time a refusal takes
    does not tell whether the user exists."""

    def __init__(self, users: tuple[tuple[str, str], ...]) -> None:
        self._users = dict(users)
        self._dummy = hash_password(os.urandom(12).hex())

    def __call__(self, username: str, password: str) -> bool:
        stored = self._users.get(username)
        ok = verify_password(password, stored or self._dummy)
        return ok and stored is not None
