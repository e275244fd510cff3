"""Package names that import their module on first use (PEP 562 module ``__getattr__``), so that
importing the package stays cheap while ``from package import Name`` keeps working."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package`` for ``exports`` (name -> submodule of ``package``
    that defines it): the submodule is imported when the name is first read."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


def lazy_dir(package: str, names: Iterable[str]) -> Callable[[], list[str]]:
    """The ``__dir__`` of ``package``: its loaded globals and the lazily exported ``names``
    (``dir()`` lists them before they are first read)."""
    exported = set(names)

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | exported)

    return __dir__
