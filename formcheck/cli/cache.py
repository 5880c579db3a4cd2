"""`formcheck cache info` and `formcheck cache clear`: the pose-track cache.

Cached tracks are a convenience (a re-run skips inference), so clearing asks
nothing; it removes only the entries formcheck wrote, never other files a
user may have put in the same folder.
"""

from __future__ import annotations

import argparse

from formcheck.pose.cache import cache_dir, cache_entries, cache_root

_CHOSEN_BY = {
    "FORMCHECK_CACHE": "from $FORMCHECK_CACHE",
    "XDG_CACHE_HOME": "from $XDG_CACHE_HOME",
    "default": "default; set FORMCHECK_CACHE or XDG_CACHE_HOME to move it",
}


def _size(nbytes: float) -> str:
    if nbytes < 1000:
        return f"{nbytes:.0f} B"
    for unit in ("kB", "MB", "GB"):
        nbytes /= 1000
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:.1f} {unit}"


def _tracks(n: int) -> str:
    return f"{n} pose track{'s' if n != 1 else ''}"


def cmd_info(args: argparse.Namespace) -> int:
    folder = cache_dir()
    entries = cache_entries(folder)
    total = sum(p.stat().st_size for p in entries)
    note = "" if folder.is_dir() else "; not created yet"
    print(f"folder:  {folder} ({_CHOSEN_BY[cache_root()[1]]}{note})")
    print(f"entries: {_tracks(len(entries))}")
    print(f"size:    {_size(total)}")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    folder = cache_dir()
    removed, freed = 0, 0
    for path in cache_entries(folder):
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:  # another formcheck cleared it meanwhile
            continue
        removed, freed = removed + 1, freed + size
    print(f"removed {_tracks(removed)} ({_size(freed)}) from {folder}")
    others = [p for p in folder.iterdir()] if folder.is_dir() else []
    if others:
        print(f"left {len(others)} other file{'s' if len(others) != 1 else ''} there (not formcheck's cache entries)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("cache", help="show or clear the pose-track cache",
                       description="Pose tracks are cached by video content, model and settings, so "
                                   "re-analysing a clip skips inference. The folder is $FORMCHECK_CACHE, "
                                   "else $XDG_CACHE_HOME/formcheck, else ~/.cache/formcheck.",
                       epilog="examples:\n  formcheck cache info\n  formcheck cache clear")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("info", help="print the cache folder, its number of entries and their size") \
        .set_defaults(func=cmd_info)
    actions.add_parser("clear", help="remove every cached pose track (asks nothing)") \
        .set_defaults(func=cmd_clear)
