"""The content hash that names a course version's content (the certificate quotes it)."""

import hashlib


def content_hash(files: dict[str, bytes]) -> str:
    """SHA-256 over the course's files (names and bytes, in order), not their timestamps."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
