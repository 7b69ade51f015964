"""Properties of the linked module itself (DESIGN §4: stack first, size budget)."""

from __future__ import annotations

from pathlib import Path

STACK_SIZE = 8 * 1024 * 1024


def _leb(data: bytes, pos: int, signed: bool = False) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if signed and b & 0x40:
        result -= 1 << shift
    return result, pos


def _sections(data: bytes) -> dict[int, bytes]:
    assert data[:4] == b"\0asm"
    pos, out = 8, {}
    while pos < len(data):
        sid = data[pos]
        size, pos = _leb(data, pos + 1)
        out.setdefault(sid, data[pos : pos + size])
        pos += size
    return out


def _imported_globals(import_section: bytes) -> int:
    count, pos = _leb(import_section, 0)
    globals_ = 0
    for _ in range(count):
        for _name in range(2):
            n, pos = _leb(import_section, pos)
            pos += n
        kind = import_section[pos]
        pos += 1
        if kind == 0:  # func: type index
            _, pos = _leb(import_section, pos)
        elif kind == 1:  # table: reftype + limits
            pos += 1
            flags = import_section[pos]
            _, pos = _leb(import_section, pos + 1)
            if flags & 1:
                _, pos = _leb(import_section, pos)
        elif kind == 2:  # memory: limits
            flags = import_section[pos]
            _, pos = _leb(import_section, pos + 1)
            if flags & 1:
                _, pos = _leb(import_section, pos)
        elif kind == 3:  # global
            globals_ += 1
            pos += 2
    return globals_


def test_stack_is_placed_first_with_8mb(module_path: Path) -> None:
    data = module_path.read_bytes()
    sec = _sections(data)
    assert _imported_globals(sec.get(2, b"\0")) == 0
    glob = sec[6]
    count, pos = _leb(glob, 0)
    assert count >= 1
    valtype, mutable = glob[pos], glob[pos + 1]
    assert (valtype, mutable) == (0x7F, 1), "global 0 should be the mutable i32 __stack_pointer"
    assert glob[pos + 2] == 0x41  # i32.const
    sp, _ = _leb(glob, pos + 3, signed=True)
    # With the stack first, the stack pointer starts at the stack's size and grows down to 0,
    # so an overflow leaves linear memory (a trap) instead of overwriting static data.
    assert STACK_SIZE <= sp <= STACK_SIZE + 16
    # Every active data segment lies above the stack.
    data_sec = sec[11]
    nseg, pos = _leb(data_sec, 0)
    for _ in range(nseg):
        flags, pos = _leb(data_sec, pos)
        if flags == 1:  # passive
            n, pos = _leb(data_sec, pos)
            pos += n
            continue
        if flags == 2:
            _, pos = _leb(data_sec, pos)
        assert data_sec[pos] == 0x41
        offset, pos = _leb(data_sec, pos + 1, signed=True)
        assert data_sec[pos] == 0x0B
        pos += 1
        assert offset >= sp
        n, pos = _leb(data_sec, pos)
        pos += n


def test_module_size_budget(module_path: Path) -> None:
    assert module_path.stat().st_size <= 8 * 1024 * 1024
