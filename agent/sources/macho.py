"""Reads the code-signing identity (Team ID and signing identifier) embedded in a macOS
executable, without running codesign, so any OS can read a copied /Applications tree.

Layout facts: Mach-O headers and LC_CODE_SIGNATURE (mach-o/loader.h), fat headers
(mach-o/fat.h), and the embedded signature's SuperBlob and CodeDirectory with its
teamOffset from version 0x20200 on (Apple's xnu osfmk/kern/cs_blobs.h).
"""

from __future__ import annotations

import logging
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
MH_MAGIC = 0xFEEDFACE
MH_MAGIC_64 = 0xFEEDFACF
LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_SUPPORTS_TEAMID = 0x20200
# An executable's headers and signature are read in full only below this size.
MAX_BINARY_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class CodeSignature:
    identifier: str | None
    team_id: str | None


def _cstring(data: bytes, offset: int) -> str | None:
    if not 0 < offset < len(data):
        return None
    end = data.find(b"\x00", offset)
    raw = data[offset : end if end >= 0 else len(data)]
    return raw.decode("ascii", errors="replace") or None


def _code_directory(blob: bytes) -> CodeSignature | None:
    magic, length, version = struct.unpack_from(">III", blob, 0)
    if magic != CSMAGIC_CODEDIRECTORY or length > len(blob):
        return None
    ident_offset = struct.unpack_from(">I", blob, 20)[0]
    team_offset = struct.unpack_from(">I", blob, 48)[0] if version >= CS_SUPPORTS_TEAMID else 0
    return CodeSignature(_cstring(blob, ident_offset), _cstring(blob, team_offset))


def _superblob(data: bytes) -> CodeSignature | None:
    if len(data) < 12:
        return None
    magic, _length, count = struct.unpack_from(">III", data, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        return None
    for index in range(min(count, 64)):
        _slot, offset = struct.unpack_from(">II", data, 12 + index * 8)
        if offset + 12 <= len(data):
            found = _code_directory(data[offset:])
            if found is not None:
                return found
    return None


def _thin(data: bytes, base: int) -> CodeSignature | None:
    """One architecture's image starting at `base` in the file."""
    magic = struct.unpack_from("<I", data, base)[0]
    if magic not in (MH_MAGIC, MH_MAGIC_64):
        return None
    ncmds = struct.unpack_from("<I", data, base + 16)[0]
    offset = base + (32 if magic == MH_MAGIC_64 else 28)
    for _ in range(min(ncmds, 4096)):
        cmd, size = struct.unpack_from("<II", data, offset)
        if cmd == LC_CODE_SIGNATURE:
            dataoff, datasize = struct.unpack_from("<II", data, offset + 8)
            return _superblob(data[base + dataoff : base + dataoff + datasize])
        if size < 8:
            return None
        offset += size
    return None


def read_signature(executable: Path) -> CodeSignature | None:
    """The Team ID and identifier an executable was signed with; None if unsigned or unread."""
    try:
        with executable.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if not 0 < size <= MAX_BINARY_BYTES:
                return None
            # Mapped, not read: only the pages of the headers and the signature are touched.
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _read(data)  # type: ignore[arg-type]
    except (OSError, ValueError):
        return None


def _read(data: bytes) -> CodeSignature | None:
    try:
        magic = struct.unpack_from(">I", data, 0)[0]
        if magic in (FAT_MAGIC, FAT_MAGIC_64):
            count = struct.unpack_from(">I", data, 4)[0]
            wide = magic == FAT_MAGIC_64
            for index in range(min(count, 16)):
                entry = 8 + index * (32 if wide else 20)
                arch_offset = (
                    struct.unpack_from(">Q", data, entry + 8)[0]
                    if wide
                    else struct.unpack_from(">I", data, entry + 8)[0]
                )
                found = _thin(data, arch_offset)
                if found is not None:
                    return found
            return None
        return _thin(data, 0)
    except struct.error:
        logger.debug("not a readable Mach-O image")
        return None
