"""The BTF string section: NUL-terminated names addressed by byte offset.

Split BTF continues its base's string offsets: an offset below the base's
string section length names a base string, the rest name this blob's own.
"""

from __future__ import annotations

from kptrdoc.btf.errors import BTFError


class StringTable:
    """Names by offset, decoded on first use and cached."""

    __slots__ = ("_base", "_cache", "_data", "_text", "base_len", "section_offset", "total_len")

    def __init__(
        self, data: bytes, base: StringTable | None = None, section_offset: int = 0
    ) -> None:
        self._data = data
        self._base = base
        self.base_len = len(base) if base is not None else 0
        """Offsets below this belong to the base's table."""
        self.section_offset = section_offset
        self._cache: dict[int, str] = {0: ""}
        self.total_len = self.base_len + len(data)
        # ASCII tables (nearly all) are decoded once: byte offsets are then str offsets
        self._text: str | None = data.decode("ascii") if data.isascii() else None
        if data and data[-1] != 0:
            raise BTFError(
                "expected the string section to end with a NUL byte",
                section_offset + len(data) - 1,
            )
        if base is None and data and data[0] != 0:
            raise BTFError(
                "expected the string section to start with an empty string", section_offset
            )
        if base is None and not data:
            raise BTFError("expected a non-empty string section", section_offset)

    def __len__(self) -> int:
        """The total offset space: the base's strings plus these."""
        return self.total_len

    def __contains__(self, offset: int) -> bool:
        return 0 <= offset < self.total_len

    def get(self, offset: int) -> str:
        """The string at ``offset``; ``BTFError`` when it is outside the table."""
        cached = self._cache.get(offset)
        if cached is not None:
            return cached
        if offset < self.base_len:
            assert self._base is not None
            text = self._base.get(offset)
        else:
            local = offset - self.base_len
            data = self._data
            if local < 0 or local >= len(data):
                raise BTFError(
                    f"expected a string offset below {len(self)}, found {offset}",
                    self.section_offset,
                )
            if self._text is not None:
                text = self._text[local : self._text.index("\0", local)]
            else:
                end = data.index(0, local)
                text = data[local:end].decode("utf-8", "surrogateescape")
        self._cache[offset] = text
        return text

    def text(self) -> str:
        """This table (not the base's) as one string, one character per byte (latin-1)."""
        return self._text if self._text is not None else self._data.decode("latin-1")

    def offsets_of(self, text: str) -> list[int]:
        """Every offset (here and in the base) at which ``text`` can be read, suffixes included."""
        needle = text.encode("utf-8", "surrogateescape") + b"\0"
        found = self._base.offsets_of(text) if self._base is not None else []
        data = self._data
        pos = data.find(needle)
        while pos >= 0:
            found.append(self.base_len + pos)
            pos = data.find(needle, pos + 1)
        return found

    def by_offset(self) -> dict[int, str]:
        """Every string of this table (not the base's) keyed by its offset, in one go.

        Offsets into the middle of a string (suffix references) are not keys;
        :meth:`get` still answers those.
        """
        out: dict[int, str] = {}
        off = self.base_len
        if self._text is not None:
            for part in self._text.split("\0")[:-1]:  # the table ends with a NUL
                out[off] = part
                off += len(part) + 1
        else:
            for raw in self._data.split(b"\0")[:-1]:
                out[off] = raw.decode("utf-8", "surrogateescape")
                off += len(raw) + 1
        return out

    def iter_strings(self) -> list[tuple[int, str]]:
        """Every string of this table (not the base's) with its offset."""
        out: list[tuple[int, str]] = []
        pos = 0
        data = self._data
        while pos < len(data):
            end = data.index(0, pos)
            out.append((self.base_len + pos, data[pos:end].decode("utf-8", "surrogateescape")))
            pos = end + 1
        return out
