"""Read FATE's test definitions from FFmpeg's ``tests/fate/*.mak``: each test's command, its ``SRC`` and the
configure components the Makefile makes it depend on.

Only what FATE's make rules say is used. The subset of GNU make understood here: line continuations; rules
``fate-NAME: CMD = ...``, ``fate-NAME: SRC = ...`` and ``$(LIST): SRC = ...``; lists ``FATE_X-$(call MACRO, ...)
+= names``, ``FATE_X-$(CONFIG_Y) += names`` and ``FATE_X += names`` (the components each name needs, also
through a list of lists: ``FATE_X-$(call MACRO, ...) += $(FATE_Y)``); ``$(addprefix p, a b)``; ``define``
blocks instantiated by FATE's ``CROSS_TEST`` (the swresample tests). Tests whose command is a pattern rule
(``fate-x-%``) are expanded from the names their lists add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# The component macros of tests/Makefile: name -> argument slots (suffix added to each word of the slot, or "" for
# raw CONFIG names), plus what each always adds. first/last: only the first/last word of that slot.
_MACROS: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "ALLYES": ([("", "all")], []),
    "DEMDEC": ([("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")], ["FILE_PROTOCOL"]),
    "ENCMUX": ([("_ENCODER", "all"), ("_MUXER", "all"), ("", "all")], []),
    "DEMMUX": ([("_DEMUXER", "all"), ("_MUXER", "all"), ("", "all")], ["FILE_PROTOCOL"]),
    "FRAMEMD5": ([("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")],
                 ["PCM_S16LE_ENCODER", "RAWVIDEO_ENCODER", "FRAMEMD5_MUXER", "FILE_PROTOCOL"]),
    "FRAMECRC": ([("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")],
                 ["PCM_S16LE_ENCODER", "RAWVIDEO_ENCODER", "FRAMECRC_MUXER", "FILE_PROTOCOL"]),
    "CRC": ([("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")],
            ["PCM_S16LE_ENCODER", "RAWVIDEO_ENCODER", "CRC_MUXER", "FILE_PROTOCOL"]),
    "PCM": ([("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")],
            ["FILE_PROTOCOL", "PCM_S16LE_ENCODER", "PCM_S16LE_MUXER"]),
    "FILTERFRAMECRC": ([("_FILTER", "all"), ("", "all")], ["PCM_S16LE_ENCODER", "RAWVIDEO_ENCODER", "FRAMECRC_MUXER"]),
    "FILTERDEMDEC": ([("_FILTER", "all"), ("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")],
                     ["PCM_S16LE_ENCODER", "RAWVIDEO_ENCODER", "FRAMECRC_MUXER", "FILE_PROTOCOL"]),
    "FILTERDEMDECENCMUX": ([("_FILTER", "all"), ("_DEMUXER", "all"), ("_DECODER", "all"), ("_ENCODER", "all"),
                            ("_MUXER", "all"), ("", "all")], ["FILE_PROTOCOL"]),
    "ENCDEC": ([("_ENCODER", "first"), ("_MUXER", "first"), ("", "all")], ["FILE_PROTOCOL"]),
    "ENCDEC2": ([("_ENCODER", "first"), ("_ENCODER", "first"), ("_MUXER", "first"), ("", "all")],
                ["FILE_PROTOCOL"]),
    "TRANSCODE": ([("_ENCODER", "first"), ("_MUXER", "first"), ("", "all")],
                  ["FILE_PROTOCOL", "RAWVIDEO_ENCODER", "PCM_S16LE_ENCODER", "FRAMECRC_MUXER"]),
    "REMUX": ([("_MUXER", "first"), ("", "all")], ["FILE_PROTOCOL", "FRAMECRC_MUXER"]),
    "PARSERDEMDEC": ([("_PARSER", "all"), ("_DEMUXER", "all"), ("_DECODER", "all"), ("", "all")], ["FILE_PROTOCOL"]),
}
# ENCDEC-style macros also need the decoder/demuxer of the last word of their slots.
_LAST_EXTRA = {"ENCDEC": [(0, "_DECODER"), (1, "_DEMUXER")], "ENCDEC2": [(0, "_DECODER"), (1, "_DECODER"),
               (2, "_DEMUXER")], "TRANSCODE": [(0, "_DECODER"), (1, "_DEMUXER")], "REMUX": [(0, "_DEMUXER")]}


@dataclass
class FateTest:
    """One FATE test as its .mak file defines it."""

    name: str  # without the "fate-" prefix
    cmd: str
    mak: str
    src: str | None = None
    vars: dict[str, str] = field(default_factory=dict)
    components: list[str] | None = None  # CONFIG names; None when no list names the test


def _join_lines(text: str) -> list[str]:
    return re.sub(r"\\\n", " ", text).splitlines()


def _cross_tests(lines: list[str]) -> list[str]:
    """The lines with each ``$(call CROSS_TEST,LIST,NAME,a,b,c)`` replaced by the ``define NAME`` block it
    instantiates: as libswresample.mak defines CROSS_TEST, ``$(1)``/``$(2)`` run over every ordered pair of
    different words of LIST (a word list or a plain variable of the file) and ``$(3)``..``$(5)`` are a, b, c."""
    defines: dict[str, list[str]] = {}
    plain: dict[str, list[str]] = {}
    out: list[str] = []
    it = iter(lines)
    for line in it:
        text = line.strip()
        m = re.fullmatch(r"define\s+(\w+)", text)
        if m:
            defines[m.group(1)] = list(iter(lambda: next(it, "endef"), "endef"))
            continue
        m = re.fullmatch(r"(\w+)\s*=\s*([^$=:]*)", text)
        if m:
            plain[m.group(1)] = m.group(2).split()
        m = re.fullmatch(r"\$\(call\s+CROSS_TEST\s*,([^,]+),\s*(\w+)((?:,[^,()]*)*)\)", text)
        if not m or m.group(2) not in defines:
            out.append(line)
            continue
        ref = re.fullmatch(r"\$\((\w+)\)", m.group(1).strip())
        words = plain.get(ref.group(1), []) if ref else m.group(1).split()
        extra = [a.strip() for a in m.group(3).split(",")[1:]]
        for i in words:
            for j in words:
                if i == j:
                    continue
                args = ([i, j, *extra] + [""] * 9)[:9]
                out += [re.sub(r"\$\((\d)\)", lambda a, args=args: args[int(a.group(1)) - 1], body)
                        for body in defines[m.group(2)]]
    return out


def _substitute(words: list[str], replacement: str) -> str:
    """make's substitution reference ``$(VAR:%=REPL)`` over ``words`` (``\\%`` in REPL is a literal ``%``)."""
    return " ".join(replacement.replace("\\%", "\0").replace("%", w).replace("\0", "%") for w in words)


def _expand_addprefix(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        prefix, words = m.group(1).strip(), m.group(2).split()
        return " ".join(prefix + w for w in words)

    while "$(addprefix" in text:
        new = re.sub(r"\$\(addprefix\s+([^,()]+),\s*([^()]*)\)", one, text)
        if new == text:
            break
        text = new
    return text


def _split_args(text: str) -> list[str]:
    return [a.strip() for a in text.split(",")]


def components_of(condition: str) -> list[str] | None:
    """The CONFIG names a list's condition needs: ``$(call FRAMECRC, WAV, PCM_S16LE)``, ``$(CONFIG_X)``, ..."""
    m = re.fullmatch(r"\$\(call\s+(\w+)\s*,(.*)\)", condition.strip())
    if m and m.group(1) in _MACROS:
        slots, always = _MACROS[m.group(1)]
        args = _split_args(m.group(2))
        out: list[str] = []
        for i, (suffix, which) in enumerate(slots):
            words = args[i].split() if i < len(args) else []
            if which == "first":
                words = words[:1]
            out += [w + suffix for w in words if not w.startswith("$")]
        for i, suffix in _LAST_EXTRA.get(m.group(1), []):
            words = args[i].split() if i < len(args) else []
            out += [words[-1] + suffix] if words else []
        return out + always
    m = re.fullmatch(r"\$\(CONFIG_(\w+)\)", condition.strip())
    if m:
        return [m.group(1)]
    if condition.strip() == "yes":
        return []
    return None


def stem(pattern: str, name: str) -> str | None:
    """What ``%`` stands for when ``name`` matches the make pattern ``pattern``, or None."""
    prefix, _, suffix = pattern.partition("%")
    if len(name) >= len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
        return name[len(prefix): len(name) - len(suffix)]
    return None


def _most_specific(candidates: list[tuple[str, object]], name: str) -> object | None:
    """The value of the matching pattern with the shortest stem (GNU make's choice), or None."""
    best: tuple[int, object] | None = None
    for pattern, value in candidates:
        st = stem(pattern, name)
        if st is not None and (best is None or len(st) <= best[0]):
            best = (len(st), value)
    return None if best is None else best[1]


def _record(target: str, var: str, value: str, mak_name: str, tests: dict[str, FateTest],
            patterns: list[tuple[str, str, str]], pattern_vars: list[tuple[str, str, str]],
            srcs: list[tuple[str, str]], other_vars: list[tuple[str, str, str]]) -> None:
    """One ``target: VAR = value`` line (a rule may name several targets)."""
    if var == "CMD":
        if target.startswith("fate-") and "%" in target:
            patterns.append((target.removeprefix("fate-"), value, mak_name))
        elif target.startswith("fate-") and "$" not in target:
            tests[target.removeprefix("fate-")] = FateTest(target.removeprefix("fate-"), value, mak_name)
    elif "%" in target and target.startswith("fate-"):
        pattern_vars.append((target.removeprefix("fate-"), var, value))
    elif var == "SRC":
        srcs.append((target, value))
    else:
        other_vars.append((target, var, value))


def parse(directory: Path) -> dict[str, FateTest]:
    """Every test with a command in ``directory``'s .mak files, by name (without ``fate-``)."""
    tests: dict[str, FateTest] = {}
    lists: dict[str, list[str]] = {}  # list variable (FATE_X-yes) -> test names
    includes: dict[str, list[str]] = {}  # list variable -> the list variables it adds
    needs: dict[str, list[str]] = {}
    list_needs: dict[str, list[str]] = {}  # components a list of lists adds to every member of the lists
    patterns: list[tuple[str, str, str]] = []  # (pattern, cmd, mak) of fate-x-%: CMD = ...
    srcs: list[tuple[str, str]] = []  # (target, SRC)
    pattern_vars: list[tuple[str, str, str]] = []  # (pattern, var, value) of fate-x-%: VAR = ...
    other_vars: list[tuple[str, str, str]] = []  # (target, var, value)
    appends: list[tuple[str, str, str]] = []  # (target or pattern, var, value) of target: VAR += value
    for mak in sorted(directory.glob("*.mak")):
        plain: dict[str, list[str]] = {}
        for line in _cross_tests(_join_lines(mak.read_text(errors="replace"))):
            line = _expand_addprefix(line.strip())
            m = re.match(r"^(FATE_[\w]+)(?:-(.+?))?\s*\+=\s*(.*)$", line)
            if m:
                key = f"{m.group(1)}-yes" if m.group(2) else m.group(1)  # FATE_X += names: an unconditional list
                names = [n.removeprefix("fate-") for n in m.group(3).split() if n.startswith("fate-")]
                lists.setdefault(key, []).extend(names)
                comps = components_of(m.group(2)) if m.group(2) else []
                for ref, cond in re.findall(r"\$\((FATE_[\w]+)(-[^)]*)?\)", m.group(3)):  # a list of lists
                    includes.setdefault(key, []).append(f"{ref}-yes" if cond else ref)
                    if not cond and comps:
                        list_needs.setdefault(ref, []).extend(comps)
                for n in names:
                    if comps is not None:
                        needs.setdefault(n, []).extend(comps)
                continue
            # FATE_X := $(FATE_Y-yes) ...: a list of lists
            m = re.fullmatch(r"(FATE_\w+)\s*:?=\s*(.*\$\(FATE_.*)", line)
            if m:
                for ref, cond in re.findall(r"\$\((FATE_[\w]+)(-[^)]*)?\)", m.group(2)):
                    includes.setdefault(m.group(1), []).append(f"{ref}-yes" if cond else ref)
                continue
            # a plain word list (FATE_MPEG2 := mpeg2 ...; a $(if $(CONFIG_X), words) in it taken as configured)
            m = re.fullmatch(r"(\w+)\s*:?=\s*([^$=:]*)", re.sub(r"\$\(if \$\(CONFIG_\w+\),([^()]*)\)", r"\1", line))
            if m:
                plain[m.group(1)] = m.group(2).split()
                continue
            line = re.sub(r"^\$\((\w+):%=([^)]*)\)",
                          lambda r, plain=plain: _substitute(plain.get(r.group(1), []), r.group(2)), line)
            m = re.match(r"^([^:=#]+?):\s*(\w+)\s*\+=\s*(.*?)\s*(?:#.*)?$", line)  # target: VAR += more
            if m:
                appends += [(target, m.group(2), m.group(3)) for target in m.group(1).split()]
                continue
            m = re.match(r"^([^:=#]+?):\s*(CMD|SRC|\w+)\s*=\s*(.*?)\s*(?:#.*)?$", line)  # make: # starts a comment
            if not m:
                continue
            targets_, var, value = m.group(1).split(), m.group(2), m.group(3)
            for target in targets_:
                _record(target, var, value, mak.name, tests, patterns, pattern_vars, srcs, other_vars)

    def members(var: str, seen: frozenset[str] = frozenset()) -> list[str]:
        out = list(lists.get(var, []))
        for inner in includes.get(var, []):
            if inner not in seen:
                out += members(inner, seen | {var})
        return out

    for ref, comps in list_needs.items():
        for n in members(ref):
            needs.setdefault(n, []).extend(comps)
    listed = {n for names in lists.values() for n in names}
    # tests named only through their reference files (acodec-*, vsynth1-*, lavf-*): FATE builds their names
    # with make functions this reader does not evaluate
    refs = directory.parent / "ref"
    for sub, prefix in (("acodec", "acodec-"), ("vsynth", ""), ("lavf", "lavf-")):
        if (refs / sub).is_dir():
            listed |= {prefix + f.name for f in (refs / sub).iterdir() if f.is_file()}
    for n in sorted(listed):
        if n in tests:
            continue
        best = _most_specific([(pat, (cmd, mak_name)) for pat, cmd, mak_name in patterns], n)
        if best is not None:
            tests[n] = FateTest(n, best[0], best[1])
    for n, t in tests.items():
        for var in {v for _, v, _ in pattern_vars}:
            found = _most_specific([(pat, value) for pat, v, value in pattern_vars if v == var], n)
            if found is not None:
                if var == "SRC":
                    t.src = found
                else:
                    t.vars[var] = found

    def targets(target: str) -> list[str]:
        m = re.fullmatch(r"\$\((FATE_[\w-]+)\)", target)
        if m:
            return members(m.group(1))
        return [target.removeprefix("fate-")] if target.startswith("fate-") else []

    for target, value in srcs:
        for n in targets(target):
            if n in tests:
                tests[n].src = value
    for target, var, value in other_vars:
        for n in targets(target):
            if n in tests:
                tests[n].vars[var] = value
    for target, var, value in appends:  # after the assignments they add to, in the files' order
        if "%" in target:
            names = [n for n in tests if target.startswith("fate-") and stem(target.removeprefix("fate-"), n)]
        else:
            names = [n for n in targets(target) if n in tests]
        for n in names:
            tests[n].vars[var] = f"{tests[n].vars.get(var, '')} {value}".strip()
    for n, t in tests.items():
        if n in needs:
            t.components = sorted(set(needs[n]))
    return tests
