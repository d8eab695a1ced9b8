"""The issuer's Ed25519 key pairs that sign credentials and status lists.

Keys are numbered: key ``n`` is published as ``{issuer}#key-<n>``. The highest number signs;
the others are *retired*: they sign nothing new but stay in the issuer profile so that every
credential they signed keeps verifying.

Two sources, chosen by ``issuer_keys(app)``:

* configured: ``CERTIFICATE_SIGNING_KEY`` holds the signing key as a PKCS#8 PEM, with its number
  in ``CERTIFICATE_SIGNING_KEY_NUMBER`` (default 1) and the retired public keys in
  ``CERTIFICATE_RETIRED_PUBLIC_KEYS`` ({number: public key PEM}); nothing is written to disk.
* generated (the default): ``instance/issuer-keys/key-<n>.pem`` (private, mode 0600), made on
  first use. ``rotate_issuer_key`` adds the next number. A retired key whose private half should
  be destroyed may be replaced by ``key-<n>.pub.pem`` holding only its public key.

Several workers may start at once: a new key is written to a temporary file and linked into
place, which fails for every worker but the first; all then read the same key (as
``lms._development_secret_key`` does for the secret key).
"""

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_DIRECTORY = "issuer-keys"
_KEY_FILE = re.compile(r"^key-([1-9][0-9]{0,8})(\.pub)?\.pem$")
# The multicodec prefix of an Ed25519 public key (varint 0xed), as Multikey requires.
ED25519_PUBLIC_PREFIX = b"\xed\x01"
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: value for value, char in enumerate(_B58_ALPHABET)}


class IssuerKeyError(ValueError):
    """Not a usable Ed25519 key (bad PEM, wrong algorithm, clashing numbers)."""


def base58btc_encode(data: bytes) -> str:
    """Bitcoin's base58: the big-endian number in base 58, one '1' per leading zero byte."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """The inverse of ``base58btc_encode``; ValueError on a character outside the alphabet."""
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """Multikey's publicKeyMultibase: "z" + base58btc(0xed 0x01 + the 32 raw key bytes)."""
    return "z" + base58btc_encode(ED25519_PUBLIC_PREFIX + public_key.public_bytes_raw())


def raw_public_key_from_multibase(value: str) -> bytes:
    """The 32 raw bytes of an Ed25519 Multikey ``publicKeyMultibase``; ValueError otherwise."""
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc ('z...')")
    decoded = base58btc_decode(value[1:])
    if len(decoded) != 34 or not decoded.startswith(ED25519_PUBLIC_PREFIX):
        raise ValueError("publicKeyMultibase is not an Ed25519 public key")
    return decoded[2:]


@dataclass(frozen=True)
class IssuerKey:
    """One numbered key. ``private_key`` is None for a retired key kept only to verify."""

    number: int
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None

    @property
    def fragment(self) -> str:
        return f"key-{self.number}"

    @property
    def public_bytes(self) -> bytes:
        return self.public_key.public_bytes_raw()

    @property
    def public_key_multibase(self) -> str:
        return public_key_multibase(self.public_key)

    @classmethod
    def from_private(cls, number: int, private_key: Ed25519PrivateKey) -> "IssuerKey":
        return cls(number, private_key.public_key(), private_key)


@dataclass(frozen=True)
class IssuerKeys:
    """Every published key, oldest first; the last one signs."""

    keys: tuple[IssuerKey, ...]

    def __post_init__(self):
        numbers = [key.number for key in self.keys]
        if not self.keys or numbers != sorted(set(numbers)):
            raise IssuerKeyError(
                "issuer keys must be a non-empty list of distinct numbers, in order"
            )
        if self.keys[-1].private_key is None:
            raise IssuerKeyError(f"the newest issuer key (key-{numbers[-1]}) has no private key")

    @property
    def signing(self) -> IssuerKey:
        return self.keys[-1]

    @property
    def retired(self) -> tuple[IssuerKey, ...]:
        return self.keys[:-1]


def generate_key(number: int = 1) -> IssuerKey:
    return IssuerKey.from_private(number, Ed25519PrivateKey.generate())


def private_key_pem(key: IssuerKey) -> bytes:
    """The signing key as unencrypted PKCS#8 PEM (what ``CERTIFICATE_SIGNING_KEY`` holds)."""
    if key.private_key is None:
        raise IssuerKeyError(f"{key.fragment} has no private key")
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: IssuerKey) -> bytes:
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_private(pem: str | bytes, where: str) -> Ed25519PrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise IssuerKeyError(f"{where}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise IssuerKeyError(f"{where}: not an Ed25519 key")
    return key


def _load_public(pem: str | bytes, where: str) -> Ed25519PublicKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise IssuerKeyError(f"{where}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise IssuerKeyError(f"{where}: not an Ed25519 key")
    return key


def configured_issuer_keys(
    signing_key_pem: str | bytes,
    *,
    number: int = 1,
    retired_public_keys: Mapping[int | str, str | bytes] | None = None,
) -> IssuerKeys:
    """Keys from settings: the signing key's PEM, its number and the retired public PEMs."""
    keys = [IssuerKey.from_private(number, _load_private(signing_key_pem, "signing key"))]
    for retired_number, pem in (retired_public_keys or {}).items():
        where = f"retired key {retired_number}"
        keys.append(IssuerKey(int(retired_number), _load_public(pem, where)))
    keys.sort(key=lambda key: key.number)
    if keys[-1].number != number:
        raise IssuerKeyError("a retired key's number must be lower than the signing key's number")
    return IssuerKeys(tuple(keys))


def _write_new_file(directory: Path, name: str, data: bytes) -> bool:
    """Write ``data`` to ``directory/name`` unless it exists; True if this call created it.

    The temporary file is made with mode 0600 (mkstemp) and hard-linked into place: the link
    fails if another process got there first, so nobody ever sees a half-written key.
    """
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, directory / name)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def _read_directory(directory: Path) -> list[IssuerKey]:
    found: dict[int, IssuerKey] = {}
    for path in directory.iterdir():
        match = _KEY_FILE.match(path.name)
        if not match:
            continue
        number, public_only = int(match.group(1)), bool(match.group(2))
        if public_only:
            if number not in found:  # the private file, if both exist, wins
                found[number] = IssuerKey(number, _load_public(path.read_bytes(), str(path)))
        else:
            found[number] = IssuerKey.from_private(
                number, _load_private(path.read_bytes(), str(path))
            )
    return [found[number] for number in sorted(found)]


def load_or_create_issuer_keys(directory: Path) -> IssuerKeys:
    """The keys in ``directory``, generating key 1 there (mode 0600) if it holds none."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = _read_directory(directory)
    if not keys:
        _write_new_file(directory, "key-1.pem", private_key_pem(generate_key(1)))
        keys = _read_directory(directory)
    return IssuerKeys(tuple(keys))


def rotate_issuer_key(directory: Path) -> IssuerKeys:
    """Add the next key, which signs from now on; the previous ones stay published."""
    keys = load_or_create_issuer_keys(directory)
    number = keys.signing.number + 1
    _write_new_file(directory, f"key-{number}.pem", private_key_pem(generate_key(number)))
    return IssuerKeys(tuple(_read_directory(directory)))


def issuer_keys(app) -> IssuerKeys:
    """The keys for a Flask app: configured ones if ``CERTIFICATE_SIGNING_KEY`` is set, else the
    generated ones under ``instance/issuer-keys/``. Read on each call (a few small files), so a
    rotation is seen by every worker at once."""
    config = app.config
    pem = config.get("CERTIFICATE_SIGNING_KEY")
    if pem:
        return configured_issuer_keys(
            pem,
            number=int(config.get("CERTIFICATE_SIGNING_KEY_NUMBER") or 1),
            retired_public_keys=config.get("CERTIFICATE_RETIRED_PUBLIC_KEYS") or {},
        )
    return load_or_create_issuer_keys(Path(app.instance_path) / KEY_DIRECTORY)
