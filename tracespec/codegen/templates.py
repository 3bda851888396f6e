"""The Jinja environment both generators render with (templates/program.c.j2, templates/decoder.py.j2).

Compiling program.c.j2 takes about a tenth of a second, paid at every `tracespec run` before BCC even
starts: the compiled templates are kept in a bytecode cache ($XDG_CACHE_HOME/tracespec, else
~/.cache/tracespec), keyed by a checksum of the template's text, so an edited template is compiled
again. Where no cache directory can be made, templates are compiled every time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources

import jinja2


class _SafeCache(jinja2.FileSystemBytecodeCache):
    """A cache that can fail without failing the command: a full disk, or a damaged file, is a miss."""

    def get_bucket(self, environment, name, filename, source):
        # keyed by the text too, not by the name alone: two versions of a template (two work trees,
        # two installs) keep a file each instead of taking turns to recompile and overwrite one
        return super().get_bucket(environment, f"{name}-{self.get_source_checksum(source)}", filename, source)

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _cache() -> jinja2.BytecodeCache | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "tracespec", f"jinja-{jinja2.__version__}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return _SafeCache(path) if os.access(path, os.W_OK) else None


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(
        lambda name: resources.files("tracespec").joinpath("templates", name).read_text("utf-8"))
    return jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                              bytecode_cache=_cache())
