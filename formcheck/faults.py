"""Fault rules: a metric, severity bands, the views it needs, a confidence.

The rules themselves are data (data/rules.toml); this module only reads
and applies them to one rep's metrics at a time, never to single frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.metrics import Metric

SEVERITIES = ("mild", "moderate", "severe")
VIEW_CONFIDENCE = {"side": 1.0, "oblique": 0.7, "front": 0.9}  # oblique views bias sagittal angles


@dataclass
class Rule:
    code: str
    metric: str
    bands: tuple[float, float, float]
    above: bool
    views: tuple[str, ...]
    confidence: float
    gate: dict | None = None

    @classmethod
    def from_config(cls, code: str, cfg: dict) -> "Rule":
        above = "above" in cfg
        return cls(code, cfg["metric"], tuple(cfg["above"] if above else cfg["below"]), above,
                   tuple(cfg["views"]), float(cfg["confidence"]), cfg.get("gate"))

    def _passes(self, value: float, limit: float, above: bool) -> bool:
        return value >= limit if above else value <= limit

    def evaluate(self, metrics: dict[str, Metric], view: str, view_confidence: float = 1.0) -> dict | str | None:
        """A finding dict, "not_measurable", or None when the rep is fine."""
        m = metrics.get(self.metric)
        if view not in self.views or m is None or not m.measurable or m.value is None:
            return "not_measurable"
        severity = None
        for name, limit in zip(SEVERITIES, self.bands):
            if self._passes(m.value, limit, self.above):
                severity = name
        if severity is None:
            return None
        evidence = f"{self.metric.replace('_', ' ')} {m.value:.3g} {m.unit} " \
                   f"({'≥' if self.above else '≤'} {self.bands[0]:g})"
        if self.gate:
            g = metrics.get(self.gate["metric"])
            gate_above = "above" in self.gate
            limit = self.gate["above"] if gate_above else self.gate["below"]
            if g is None or not g.measurable or g.value is None:
                return "not_measurable"
            if not self._passes(g.value, limit, gate_above):
                return None
            evidence += f"; {self.gate['metric'].replace('_', ' ')} {g.value:.3g} {g.unit}"
        confidence = self.confidence * VIEW_CONFIDENCE.get(view, 0.5) * max(0.3, view_confidence)
        return {"code": self.code, "severity": severity, "confidence": round(min(confidence, 1.0), 2),
                "evidence": evidence}


def rules_from_config(cfg: dict) -> list[Rule]:
    return [Rule.from_config(code, body) for code, body in cfg.items() if "metric" in body]


def clip_faults(per_rep: list[list[dict]], not_measurable: list[set[str]], rules: list[Rule], min_share: float,
                numbers: list[int] | None = None) -> list[dict]:
    """Faults for the whole clip: present in at least min_share of the reps
    where they could be measured. Severity is the most common among those reps.
    `numbers` are the reps' numbers as the report shows them (default 1, 2, ...)."""
    numbers = numbers or list(range(1, len(per_rep) + 1))
    out = []
    for rule in rules:
        measurable = [i for i, nm in enumerate(not_measurable) if rule.code not in nm]
        hits = [i for i in measurable if any(f["code"] == rule.code for f in per_rep[i])]
        if measurable and hits and len(hits) >= min_share * len(measurable):
            sev = [f["severity"] for i in hits for f in per_rep[i] if f["code"] == rule.code]
            out.append({"code": rule.code, "reps": [numbers[i] for i in hits],
                        "severity": max(set(sev), key=lambda s: (sev.count(s), SEVERITIES.index(s)))})
    return out
