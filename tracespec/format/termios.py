"""Terminal structs as strace prints them (its term.c): struct termios, termios2 and termio, whose flag
words split into named fields, and struct winsize."""

from __future__ import annotations

from tracespec.format.values import DEFAULT_STYLE, Style, constants, enum_text, flag_names, struct_fields, with_comment

# c_oflag's delay fields, in strace's order: (mask, constant set)
OFLAG_FIELDS = ((0x100, "term_nldly"), (0x600, "term_crdly"), (0x1800, "term_tabdly"), (0x2000, "term_bsdly"),
                (0x4000, "term_vtdly"), (0x8000, "term_ffdly"))
CBAUD, CIBAUD, CSIZE, IBSHIFT = 0x100F, 0x100F0000, 0x30, 16
CC_COUNT = {"termios": 19, "termios2": 19, "termio": 8}  # NCCS, NCC on x86_64


def _number(value: int) -> str:
    return hex(value) if value else "0"


def bare_flags(value: int, set_name: str, style: Style = DEFAULT_STYLE) -> str:
    """strace's printflags with no default: the names (and the unknown rest in hex), the bare number
    when no name fits, and nothing at all for 0."""
    if value == 0:
        return ""
    if style.xlat == "raw":
        return _number(value)
    c = constants()
    names, rest = flag_names(value, c.sets[set_name], c)
    if not names:
        return _number(value)
    return with_comment(_number(value), "|".join(names + ([hex(rest)] if rest else [])), style)


def _oflag(value: int, style: Style) -> str:
    c = constants()
    parts = []
    for mask, set_name in OFLAG_FIELDS:
        parts.append(enum_text(value & mask, c.sets[set_name], style))
        value &= ~mask
    return "|".join(parts + [bare_flags(value, "term_oflags", style)])


def _cflag(value: int, style: Style) -> str:
    baud = constants().sets["term_baud"]
    parts = [enum_text(value & CBAUD, baud, style)]
    if value & CIBAUD:
        parts.append(f"{enum_text((value & CIBAUD) >> IBSHIFT, baud, style)}<<"
                     f"{with_comment(hex(IBSHIFT), 'IBSHIFT', style)}")
    parts.append(enum_text(value & CSIZE, constants().sets["term_csize"], style))
    return "|".join(parts + [bare_flags(value & ~(CBAUD | CIBAUD | CSIZE), "term_cflags", style)])


def _cc(data: bytes, count: int) -> str:
    names = constants().sets["termios_cc"]
    return "[" + ", ".join(f"[{names.lookup(i) or i}]={_number(b)}" for i, b in enumerate(data[:count])) + "]"


def termios_text(name: str, data: bytes, style: Style = DEFAULT_STYLE) -> str:
    """struct termios, termios2 or termio (the name): the four flag words, then with -v the line
    discipline, the control characters and termios2's speeds, else "..."."""
    v = struct_fields(name, data)
    text = (f"{{c_iflag={bare_flags(v['c_iflag'], 'term_iflags', style)}, c_oflag={_oflag(v['c_oflag'], style)}, "
            f"c_cflag={_cflag(v['c_cflag'], style)}, c_lflag={bare_flags(v['c_lflag'], 'term_lflags', style)}, ")
    if not style.verbose:
        return text + "...}"
    text += f"c_line={enum_text(v['c_line'], constants().sets['term_line_discs'], style)}, "
    text += f"c_cc={_cc(v['c_cc'], CC_COUNT[name])}"
    if name == "termios2":
        text += f", c_ispeed={v['c_ispeed']}, c_ospeed={v['c_ospeed']}"
    return text + "}"


def winsize_text(data: bytes) -> str:
    v = struct_fields("winsize", data)
    return f"{{ws_row={v['ws_row']}, ws_col={v['ws_col']}, ws_xpixel={v['ws_xpixel']}, ws_ypixel={v['ws_ypixel']}}}"
