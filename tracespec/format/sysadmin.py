"""The administrator's syscalls strace prints in a shape of their own: reboot's argument string only with
LINUX_REBOOT_CMD_RESTART2, swapon's priority apart from its flags, kexec_load's segments only while
there are few enough of them."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.arrays import array_text
from tracespec.format.values import Style, addr_text, constants, enum_text, flags_text, named_memory_text, unsigned

LINUX_REBOOT_CMD_RESTART2 = 0xA1B2C3D4


def reboot(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's reboot: both magic numbers and the command by name; the string the kernel reads only for
    LINUX_REBOOT_CMD_RESTART2, the one command that takes one."""
    c = constants()
    magic1, magic2, cmd = (unsigned(v, 4) for v in ev.args[:3])
    parts = [enum_text(magic1, c.sets["reboot_magic1"], style), enum_text(magic2, c.sets["reboot_magic2"], style),
             enum_text(cmd, c.sets["reboot_cmd"], style)]
    if cmd == LINUX_REBOOT_CMD_RESTART2:
        parts.append(named_memory_text(ev, "arg", style))
    return ", ".join(parts), ""


SWAP_FLAG_PRIO_MASK = 0x7FFF


def swapon(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's swapon: the flags above the priority by name when there are any, then the priority as a
    number, always: SWAP_FLAG_PREFER|7, SWAP_FLAG_DISCARD|0, 0."""
    value = unsigned(ev.args[1], 4)
    prio, flags = value & SWAP_FLAG_PRIO_MASK, value & ~SWAP_FLAG_PRIO_MASK
    text = str(prio)
    if flags:
        c = constants()
        text = flags_text(flags, c.sets["swap_flags"], c, style) + "|" + text
    return f"{named_memory_text(ev, 'specialfile', style)}, {text}", ""


KEXEC_SEGMENT_MAX = 16  # linux/kexec.h: strace prints a longer list as its address
KEXEC_ARCH_MASK = 0xFFFF0000


def kexec_load(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's kexec_load: the entry point as an address, the segments as an array while there are no
    more than the kernel takes, the architecture (the flags' top half) by name, then the other flags when
    there are any, each part printed as its own set (an unknown one with its own comment)."""
    c = constants()
    entry, count, segments, flags = ev.args[:4]
    f = ev.info.args[2]
    if unsigned(count) > KEXEC_SEGMENT_MAX:
        listed = addr_text(segments)
    else:
        listed = array_text(f, segments, ev, ev.entry_slots.get(f.name), None, style)
    flags = unsigned(flags)
    text = enum_text(flags & KEXEC_ARCH_MASK, c.sets["kexec_arch"], style)
    if flags & ~KEXEC_ARCH_MASK:
        text += "|" + flags_text(flags & ~KEXEC_ARCH_MASK, c.sets["kexec_load_flags"], c, style)
    return f"{addr_text(entry)}, {unsigned(count)}, {listed}, {text}", ""
