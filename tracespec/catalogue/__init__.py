"""The syscall catalogue and the named constants: facts about the syscall ABI, kept as data."""

from tracespec.catalogue.constants import Constants, ConstantSet
from tracespec.catalogue.kinds import KINDS, ArgKind, Capture, Phase
from tracespec.catalogue.structs import StructLayout
from tracespec.catalogue.syscalls import CLASSES, Arg, Catalogue, CType, Syscall, load_catalogue

__all__ = ["Arg", "ArgKind", "CLASSES", "Catalogue", "Constants", "ConstantSet", "CType", "KINDS", "Capture", "Phase",
           "StructLayout", "Syscall", "load_catalogue"]
