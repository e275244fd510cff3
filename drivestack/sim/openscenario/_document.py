"""The parsed ``.xosc`` file and the trigger conditions read from it.

:class:`_Doc` holds the parsed XML, the top-level ``ParameterDeclarations`` and replaces
``$name`` references with them, gives typed attribute access (text, finite numbers, whole
numbers, required children) and builds the :class:`~drivestack.core.errors.ConfigError` naming
the file and the element; the condition helpers read a trigger's single condition and a
``SimulationTimeCondition``'s time, for the storyboard, its acts and its stop trigger.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, cast, overload

from drivestack.core.errors import ConfigError
from drivestack.ingest.maps._opendrive_records import parse_file

_REQUIRED = object()  # _Doc.number without a default: the attribute must be there


class _Doc:
    """The parsed file, with ``$parameter`` substitution and errors naming the element."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = parse_file(path, "OpenSCENARIO", ConfigError)
        top = self.root.findall("ParameterDeclarations/ParameterDeclaration")
        if len(top) != len(list(self.root.iter("ParameterDeclaration"))):
            raise ConfigError(
                "parameter declarations below the top level (in a Story, Act, catalogue, ...) "
                "are not read: declare them at the top",
                path=str(path),
                field="ParameterDeclarations",
            )
        self.params = {p.get("name", ""): p.get("value", "") for p in top}

    def error(self, reason: str, where: str) -> ConfigError:
        return ConfigError(reason, path=str(self.path), field=where)

    def text(self, el: ET.Element, attr: str, where: str) -> str:
        value = el.get(attr)
        if value is None:
            raise self.error(f"missing attribute {attr!r}", where)
        if value.startswith("${"):
            raise self.error(f"expressions are not read: {value!r}", f"{where}@{attr}")
        if value.startswith("$"):
            if not value[1:].strip():
                raise self.error(
                    f"{value!r} names no parameter (a reference is $ and the parameter's name)",
                    f"{where}@{attr}",
                )
            if value[1:] not in self.params:
                raise self.error(f"no parameter {value[1:]!r} is declared", f"{where}@{attr}")
            value = self.params[value[1:]]
        return value

    def name_ref(self, el: ET.Element, attr: str, where: str, what: str) -> str:
        """The attribute as a name that must resolve to ``what`` (an entity, a controller,
        a phase, a signal id, ...); refused when empty or white space only. The XSD's
        ``String`` allows such a name on an element, and one that nothing refers to stays
        accepted; but a reference by it cannot tell one element from another, so it is not
        matched to whichever element happens to have no name."""
        value = self.text(el, attr, where)
        if not value.strip():
            raise self.error(f"an empty name ({value!r}) refers to no {what}", f"{where}@{attr}")
        return value

    @overload
    def number(self, el: ET.Element, attr: str, where: str) -> float: ...

    @overload
    def number(self, el: ET.Element, attr: str, where: str, default: float) -> float: ...

    @overload
    def number(self, el: ET.Element, attr: str, where: str, default: None) -> float | None: ...

    def number(
        self, el: ET.Element, attr: str, where: str, default: Any = _REQUIRED
    ) -> float | None:
        """The attribute as a finite number; ``default`` (when given) where it is missing or
        empty."""
        if default is not _REQUIRED and not el.get(attr):
            return cast(float | None, default)
        text = self.text(el, attr, where)
        try:
            value = float(text)
        except ValueError:
            raise self.error(f"not a number: {text!r}", f"{where}@{attr}") from None
        if not math.isfinite(value):
            raise self.error(f"not a finite number: {text!r}", f"{where}@{attr}")
        return value

    def choice(
        self, el: ET.Element, attr: str, where: str, allowed: tuple[str, ...], default: str = ""
    ) -> str:
        """The attribute, one of ``allowed`` (``default``, when given, where it is missing)."""
        if default and el.get(attr) is None:
            return default
        value = self.text(el, attr, where)
        if value not in allowed:
            raise self.error(
                f"must be one of {', '.join(allowed)}, got {value!r}", f"{where}@{attr}"
            )
        return value

    def boolean(self, el: ET.Element, attr: str, where: str, default: bool) -> bool:
        """The attribute as an XML Schema boolean (``true`` / ``false`` / ``1`` / ``0``, any
        case); ``default`` where it is missing."""
        if el.get(attr) is None:
            return default
        value = self.text(el, attr, where).strip().lower()
        if value not in ("true", "false", "1", "0"):
            raise self.error(f"must be true or false, got {el.get(attr)!r}", f"{where}@{attr}")
        return value in ("true", "1")

    def integer(self, el: ET.Element, attr: str, where: str) -> int:
        value = self.number(el, attr, where)
        if value != int(value):
            raise self.error(f"not a whole number: {value}", f"{where}@{attr}")
        return int(value)

    def one(self, el: ET.Element, path: str, where: str) -> ET.Element:
        found = el.find(path)
        if found is None:
            raise self.error(f"missing <{path}>", where)
        return found

    def absolute_value(self, el: ET.Element, path: str, where: str) -> float:
        """The ``value`` of the ``Absolute...`` target at ``path`` below ``el``; refused when
        the target is another kind."""
        target = el.find(path)
        if target is None:
            raise self.error(f"only an {path.rsplit('/', 1)[1]} is read", where)
        return self.number(target, "value", where)


def _where(*names: str) -> str:
    return "/".join(names)


def _one_condition(doc: _Doc, trigger: ET.Element, where: str) -> ET.Element:
    """The trigger's only condition (one group of one condition), rising or level edged."""
    groups = trigger.findall("ConditionGroup")
    conditions = [c for g in groups for c in g.findall("Condition")]
    if len(groups) != 1 or len(conditions) != 1:
        raise doc.error(
            f"{len(groups)} condition group(s) of {len(conditions)} condition(s): a trigger of "
            "one condition is read",
            where,
        )
    edge = conditions[0].get("conditionEdge", "rising")
    if edge not in ("rising", "none"):
        raise doc.error(f"conditionEdge {edge!r} is not read (rising or none)", where)
    return conditions[0]


def _condition_kind(cond: ET.Element) -> str:
    """The condition's own element name (``SimulationTimeCondition``, ...), for errors."""
    inner = cond.find("ByValueCondition/*")
    if inner is None:
        inner = cond.find("ByEntityCondition/EntityCondition/*")
    return inner.tag if inner is not None else "?"


def _sim_time_s(doc: _Doc, cond: ET.Element, where: str) -> float | None:
    """A ``SimulationTimeCondition``'s time plus the condition's delay; None for another
    condition."""
    sim_time = cond.find("ByValueCondition/SimulationTimeCondition")
    if sim_time is None:
        return None
    if doc.text(sim_time, "rule", where) not in ("greaterThan", "greaterOrEqual"):
        raise doc.error(
            "a SimulationTimeCondition is read with greaterThan / greaterOrEqual", where
        )
    delay = doc.number(cond, "delay", where, default=0.0)
    return doc.number(sim_time, "value", where) + delay


def _required_sim_time_s(doc: _Doc, trigger: ET.Element, where: str, what: str) -> float:
    """The time of ``trigger``'s single ``SimulationTimeCondition``; refused, saying ``what``
    happens on it (``"an act starts"``), for another condition."""
    cond = _one_condition(doc, trigger, where)
    found = _sim_time_s(doc, cond, where)
    if found is None:
        raise doc.error(f"{what} on a SimulationTimeCondition, got {_condition_kind(cond)}", where)
    return found


def _act_start_s(doc: _Doc, act: ET.Element, where: str) -> float:
    """When an ``Act`` starts: its ``StartTrigger``'s ``SimulationTimeCondition`` (0 without
    one); refused for another condition."""
    trigger = act.find("StartTrigger")
    if trigger is None:
        return 0.0
    return _required_sim_time_s(doc, trigger, where, "an act starts")
