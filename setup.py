"""The one part of tracespec in C: the ring buffer walker (tracespec/wire/_ring.c). Everything else is in
pyproject.toml. Optional: without a compiler tracespec installs and uses the same functions in Python
(tracespec/wire/ring.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("tracespec.wire._ring", ["tracespec/wire/_ring.c"], optional=True,
                             extra_compile_args=["-O2"])])
