"""Landlock's calls as strace prints them: the ruleset's attributes as far as strace knows them, a rule's
attributes by its type, the ABI version landlock_create_ruleset returns when asked for it."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import (Style, addr_text, constants, copied, enum_text, failed, flags_text, signed32,
                                     struct_fields, unsigned)

RULESET_ATTR_SIZE = 8  # offsetofend(struct landlock_ruleset_attr, handled_access_fs): all strace 6.1 reads
LANDLOCK_CREATE_RULESET_VERSION = 0x1
LANDLOCK_RULE_PATH_BENEATH = 1
PATH_BENEATH_ATTR_SIZE = 12


def landlock_create_ruleset(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, str | None]:
    """The file system rights handled (a size too small for them: the address; a larger one: "..."
    after them), the size, the flags; the return is a descriptor unless the call asked for the version."""
    c = constants()
    addr, size, flags = ev.args[0], unsigned(ev.args[1]), unsigned(ev.args[2], 4)
    data = copied(ev.entry_slots.get("attr"), RULESET_ATTR_SIZE) if addr and size >= RULESET_ATTR_SIZE else None
    if data is None:
        attr = addr_text(addr)
    else:
        access = struct_fields("landlock_ruleset_attr", data)["handled_access_fs"]
        attr = (f"{{handled_access_fs={flags_text(access, c.sets['landlock_access_fs'], c, style)}"
                + (", ..." if size > RULESET_ATTR_SIZE else "") + "}")
    text = f"{attr}, {size}, {flags_text(flags, c.sets['landlock_create_ruleset_flags'], c, style)}"
    ret = None
    if flags & LANDLOCK_CREATE_RULESET_VERSION and ev.exit is not None and not failed(ev.ret):
        ret = str(ev.ret)  # a version, not a descriptor (no -y annotation)
    return text, "", ret


def landlock_add_rule(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """The ruleset's descriptor, the rule type, a path-beneath rule's rights and directory (other types'
    attributes as their address), the flags in hex."""
    c = constants()
    rule_type = unsigned(ev.args[1], 4)
    attr = addr_text(ev.args[2])
    if rule_type == LANDLOCK_RULE_PATH_BENEATH and ev.args[2]:
        data = copied(ev.entry_slots.get("rule_attr"), PATH_BENEATH_ATTR_SIZE)
        if data is not None:
            v = struct_fields("landlock_path_beneath_attr", data)
            attr = (f"{{allowed_access={flags_text(v['allowed_access'], c.sets['landlock_access_fs'], c, style)}, "
                    f"parent_fd={fd_text(v['parent_fd'])}}}")
    flags = unsigned(ev.args[3], 4)
    return (f"{fd_text(signed32(ev.args[0]))}, {enum_text(rule_type, c.sets['landlock_rule_types'], style)}, {attr}, "
            f"{hex(flags) if flags else '0'}"), ""
