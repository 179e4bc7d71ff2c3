"""Compression bombs built without ever holding their inflated size in memory."""

from __future__ import annotations

import zlib

__all__ = ["build_gzip_bomb"]

MIB = 1024 * 1024


def build_gzip_bomb(zero_mib: int = 512) -> bytes:
    """``zero_mib`` MiB of zeros, gzipped twice (a few KiB for 512 MiB).

    After a full flush deflate forgets its history, so the compressed form of 1 MiB of zeros
    is one segment that can be repeated; the inner gzip member is header + segments + final
    block + trailer, and it is fed to the outer gzip compressor piece by piece.
    """
    zeros = bytes(MIB)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    final_block = deflater.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(zero_mib):
        crc = zlib.crc32(zeros, crc)
    inner_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    inner_size = (zero_mib * MIB) & 0xFFFFFFFF
    inner_trailer = crc.to_bytes(4, "little") + inner_size.to_bytes(4, "little")
    outer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [outer.compress(inner_header)]
    parts += [outer.compress(segment) for _ in range(zero_mib)]
    parts.append(outer.compress(final_block + inner_trailer))
    parts.append(outer.flush())
    return b"".join(parts)
