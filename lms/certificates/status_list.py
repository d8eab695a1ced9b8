"""Bitstring Status List v1.0 encoding (https://www.w3.org/TR/vc-bitstring-status-list/).

A status list is a bitstring of at least 131,072 bits (16 KB) where bit ``i`` is 1 when the
credential whose ``statusListIndex`` is ``i`` has the list's status (here: revoked). Index 0
is the left-most (most significant) bit of the first byte. ``encodedList`` is the bitstring
GZIP-compressed, then multibase-encoded as base64url without padding (prefix "u").
"""

import base64
import gzip
import zlib
from collections.abc import Iterable

MIN_SIZE = 131_072  # the specification's minimum, which hides one credential among many
MAX_DECODED_BYTES = 16 * 1024 * 1024  # a list someone else made is decoded no larger than this


def encode_status_list(set_indexes: Iterable[int], size: int = MIN_SIZE) -> str:
    """The ``encodedList`` of a bitstring of ``size`` bits with ``set_indexes`` set."""
    if size < MIN_SIZE or size % 8:
        raise ValueError(f"a status list has a multiple of 8 bits, at least {MIN_SIZE}")
    bits = bytearray(size // 8)
    for index in set_indexes:
        if not 0 <= index < size:
            raise ValueError(f"status list index {index} is outside 0..{size - 1}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same statuses always give the same bytes (cacheable, comparable).
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_status_list(encoded: str) -> bytes:
    """The uncompressed bitstring of an ``encodedList``; ValueError if it is not one."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u...')")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing
        bitstring = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"encodedList is not a GZIP-compressed bitstring: {exc}") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("encodedList is truncated or decodes to more than 16 MB")
    return bitstring


def is_set(bitstring: bytes, index: int) -> bool:
    """Whether bit ``index`` (0 = left-most) of ``bitstring`` is 1."""
    if not 0 <= index < len(bitstring) * 8:
        raise ValueError(f"status list index {index} is outside the list")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))
