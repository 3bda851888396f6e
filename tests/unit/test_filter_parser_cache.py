"""The filter parser's tables kept in the cache directory (spec/filter_tree.parser): made once, read back
by the next start, and never read from a directory others may write into (lark unpickles them)."""

from __future__ import annotations

import os

from tracespec.errors import Location
from tracespec.kernel import cachedir
from tracespec.spec import filter_tree
from tracespec.spec.filter import parse_filter


def _fresh_parse(text: str):
    filter_tree.parser.cache_clear()
    return parse_filter(text, lambda line, column: Location("t.yaml", line, column))


def test_the_parser_tables_are_kept_and_parse_the_same_when_read_back(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("TRACESPEC_CACHE", str(where))
    try:
        made = _fresh_parse("failed and fd >= 3")
        kept = [p for p in os.listdir(where) if p.startswith("filter-parser-")]
        assert len(kept) == 1
        stamp = os.stat(where / kept[0]).st_mtime_ns
        again = _fresh_parse("failed and fd >= 3")
        assert again == made
        assert os.stat(where / kept[0]).st_mtime_ns == stamp  # read, not made again
    finally:
        filter_tree.parser.cache_clear()


def test_a_directory_others_may_write_into_is_not_used(tmp_path, monkeypatch, capsys):
    where = tmp_path / "open"
    where.mkdir()
    os.chmod(where, 0o777)
    monkeypatch.setenv("TRACESPEC_CACHE", str(where))
    monkeypatch.setattr(cachedir, "_warned", False)
    try:
        assert _fresh_parse("failed") is not None
        assert os.listdir(where) == []
        assert "not using the program cache" in capsys.readouterr().err
    finally:
        filter_tree.parser.cache_clear()


def test_no_cache_directory_parses_all_the_same(monkeypatch):
    monkeypatch.setenv("TRACESPEC_CACHE", "off")
    try:
        assert _fresh_parse("failed") is not None
    finally:
        filter_tree.parser.cache_clear()
