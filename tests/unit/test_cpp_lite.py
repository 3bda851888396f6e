"""The tests' reading of #if: what the preprocessor would keep of the static BPF files."""

from __future__ import annotations

from cpp_lite import active

TEXT = """#define TS_A 1
#define TS_ZERO 0
#ifdef TS_A
a
#if defined(TS_B) || TS_ZERO
b
#elif defined(TS_A) && !defined(TS_B)
a-not-b
#define TS_C 1
#else
neither
#endif
#endif
#ifndef TS_C
no-c
#else
c
#endif
#if TS_A
#define macro(x) x
#endif
"""


def test_the_kept_lines_are_the_preprocessors():
    assert active(TEXT).splitlines() == ["#define TS_A 1", "#define TS_ZERO 0", "a", "a-not-b",
                                         "#define TS_C 1", "c", "#define macro(x) x"]


def test_an_excluded_define_is_not_taken():
    text = "#ifdef TS_NO\n#define TS_X 1\n#endif\n#ifdef TS_X\nx\n#endif\n"
    assert active(text) == ""
