"""Scoring forms and a reviewer's score of one call by one (pure).

A form is data in center.yaml (``qa: forms:``): items, each with its weight (the points it
is worth) and whether it is *critical* (一票否决: failing it fails the whole call, whatever
the other items score), and a version. A score keeps the form's name and version, and the
store keeps each version's definition the first time it is used, so an old score is read
with the form it was given on; a changed form must get a new version::

    form = center.qa.forms["service"]
    result = score_call(form, {"greeting": "10", "accuracy": "25", "attitude": "fail"})
    result.total          # 0.0: a critical item failed
    result.failed         # ("attitude",)

Answers: a number of points from 0 to the item's weight for an ordinary item; ``pass`` or
``fail`` for a critical one (a pass earns its weight). Every item is answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.core.reader import Problem, Reader

__all__ = ["Form", "FormError", "Item", "Result", "load_forms", "score_call"]


class FormError(ValueError):
    """Answers that do not fit the form; ``problems`` names each item."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    label: str
    weight: int  # points; a critical item may weigh 0 (it only fails or passes)
    critical: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    label: str
    version: int
    items: tuple[Item, ...]

    @property
    def points(self) -> int:
        return sum(i.weight for i in self.items)

    def doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "version": self.version,
            "items": [
                {"key": i.key, "label": i.label, "weight": i.weight, "critical": i.critical}
                for i in self.items
            ],
        }

    def digest(self) -> str:
        """SHA-256 of the definition: the same version must always mean the same form."""
        text = json.dumps(self.doc(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Form:
        items = tuple(
            Item(i["key"], i["label"], int(i["weight"]), bool(i["critical"])) for i in doc["items"]
        )
        return cls(doc["name"], doc["label"], int(doc["version"]), items)


@dataclass(frozen=True, slots=True)
class Result:
    points: Mapping[str, int]  # per item
    total: float  # 0-100; 0 when a critical item failed
    failed: tuple[str, ...]  # the critical items failed

    @property
    def passed(self) -> bool:
        return not self.failed


def score_call(form: Form, answers: Mapping[str, str]) -> Result:
    """The score of ANSWERS (item key → text) by FORM; :class:`FormError` naming every item
    that is missing, unknown or out of range."""
    problems: list[Problem] = []
    points: dict[str, int] = {}
    failed: list[str] = []
    known = {i.key for i in form.items}
    for key in answers:
        if key not in known:
            problems.append(Problem(key, f"not an item of {form.name} v{form.version}"))
    for item in form.items:
        raw = answers.get(item.key)
        if raw is None:
            problems.append(Problem(item.key, "not answered"))
            continue
        text = raw.strip().lower()
        if item.critical:
            if text not in ("pass", "fail"):
                problems.append(Problem(item.key, f"{raw!r}: a critical item is pass or fail"))
                continue
            points[item.key] = item.weight if text == "pass" else 0
            if text == "fail":
                failed.append(item.key)
            continue
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not (0 <= value <= item.weight and value == int(value)):
            problems.append(
                Problem(item.key, f"{raw!r}: give whole points from 0 to {item.weight}")
            )
            continue
        points[item.key] = int(value)
    if problems:
        raise FormError(problems)
    total = 0.0 if failed or not form.points else round(100 * sum(points.values()) / form.points, 1)
    return Result(points, total, tuple(failed))


def load_forms(r: Reader, raw: object) -> dict[str, Form]:
    """The ``qa.forms`` section: ``{name: {label, version, items: {key: {label, weight,
    critical}}}}``."""
    forms: dict[str, Form] = {}
    for name, spec in r.section("qa.forms", raw).items():
        node = f"qa.forms.{name}"
        r.name(node, name)
        data = r.mapping(node, spec, {"label", "version", "items"})
        label = r.get(node, data, "label", str, name) or name
        version = r.get(node, data, "version", int)
        if not r.number(f"{node}.version", version, 1):
            version = None
        items = []
        for key, value in r.mapping(f"{node}.items", data.get("items")).items():
            where = f"{node}.items.{key}"
            r.name(where, key)
            item = r.mapping(where, value, {"label", "weight", "critical"})
            critical = r.get(where, item, "critical", bool, False) or False
            weight = r.get(where, item, "weight", int, 0 if critical else None)
            if not r.number(f"{where}.weight", weight, 0 if critical else 1, 100):
                weight = None
            if weight is not None:
                items.append(
                    Item(key, r.get(where, item, "label", str, key) or key, weight, critical)
                )
        if not items:
            r.fail(f"{node}.items", "a form needs items")
        elif sum(i.weight for i in items) == 0:
            r.fail(f"{node}.items", "the items weigh nothing: give some a weight")
        if version is not None and items:
            forms[name] = Form(name, label, version, tuple(items))
    return forms
