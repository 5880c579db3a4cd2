"""Published JSON Schemas of formcheck's output files (report.json, the batch summary.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    """`report` or `batch-summary`."""
    return json.loads((files("formcheck.schemas") / f"{name}.schema.json").read_text(encoding="utf-8"))
