"""Refuse symbolic links to folders inside an output folder that a command deletes in or
writes into: ``folder / name`` through such a link is a file outside the folder the user
named (a received run folder, or an untarred result set, can hold exactly such a link)."""

from __future__ import annotations

import os
from pathlib import Path

from drivestack.core.errors import DataError


def refuse_folder_links(root: Path, depth: int, option: str) -> None:
    """``DataError`` naming the first symbolic link to a folder outside ``root`` at most
    ``depth`` levels below it (``root`` itself may be one: the user named it; a link to a
    folder inside it is fine), in sorted order; nothing when ``root`` is not a folder.
    ``option`` names the command-line option that gave ``root``."""
    level = [root] if root.is_dir() else []
    inside = root.resolve()
    for _ in range(depth):
        below = []
        for folder in level:
            for entry in sorted(folder.iterdir()):
                if entry.is_symlink() and entry.is_dir():
                    if entry.resolve().is_relative_to(inside):
                        continue  # (its folders are looked at where they are)
                    raise DataError(
                        f"a symbolic link to {os.readlink(entry)}: drivestack deletes and "
                        f"writes its own files in the folders of {option} and does not follow "
                        "links out of it; remove the link, or give another folder",
                        path=str(entry),
                        field=option,
                    )
                if entry.is_dir():
                    below.append(entry)
        level = below
