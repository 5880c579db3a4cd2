"""Scoring the analysis against hand labels of real clips.

`score` is a pure function of the labels and one small result dict per clip,
so it is tested on hand-made inputs; `formcheck evaluate` (cli.evaluate) runs
the analysis, prints the per-clip table and writes evaluation.json and .csv.
"""

from __future__ import annotations

import json
from pathlib import Path

from formcheck.coach.config import fault_codes
from formcheck.errors import FormcheckError

SCHEMA = "formcheck.evaluation/1"
BOTTOM_MATCH_S = 1.0  # a rep bottom further than this from every labeled one is a different rep
SCORED_VIEWS = ("side", "front", "oblique")  # "mixed" clips change view mid-clip: no single answer
# Confidence bins of the reliability table; the first ends at the line under
# which a finding is only shown as possible (coach.faults.POSSIBLE_BELOW).
CONFIDENCE_EDGES = (0.0, 0.35, 0.5, 0.65, 1.0)


def read_labels(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FormcheckError(f"cannot read labels {path}: {exc.strerror or exc}") from None
    labels = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            label = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormcheckError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(label, dict) or not isinstance(label.get("file"), str) \
                or not isinstance(label.get("reps"), int) or isinstance(label.get("reps"), bool):
            raise FormcheckError(f"{path}:{n}: a label needs at least 'file' (a name) and 'reps' (a whole number)")
        labels.append(label)
    return labels


def clip_result(analysis) -> dict:
    """What scoring needs from one Analysis; plain data, so results can be saved or faked."""
    complete = analysis.complete_reps
    t = analysis.track.t
    # A fault no complete rep could measure is "not measurable" for the clip (as in the report).
    missing = analysis.not_measurable
    return {
        "reps": len(complete),
        "rep_bottoms_s": [round(float(t[r.rep.bottom]), 3) for r in complete],
        "view": analysis.view.kind,
        "faults": sorted(f.code for f in analysis.faults),
        # What the lifter reads: a finding in any rep of the rep table counts.
        "rep_faults": sorted({f.code for r in analysis.reps for f in r.faults}),
        "cant_tell": sorted({code for r in complete for code, f in r.findings.items() if f.verdict == "cant_tell"}),
        "not_measurable": sorted(missing),
        # Each fault's most confident finding in any rep, possible ones included: what the reliability table bins.
        "confidence": _most_confident(analysis),
    }


def _most_confident(analysis) -> dict[str, float]:
    best: dict[str, float] = {}
    for r in analysis.reps:
        for code, f in r.findings.items():
            if f.is_fault or f.possible:
                best[code] = max(best.get(code, 0.0), f.confidence)
    return dict(sorted(best.items()))


def label_view(label: dict) -> str:
    return str(label.get("view", "")).split(":")[0].strip()


def defensible_counts(label: dict) -> list[int]:
    return sorted(set(label.get("reps_ok") or []) | {int(label["reps"])})


def match_bottoms(ours: list[float], labeled: list[float], within: float = BOTTOM_MATCH_S) -> list[float]:
    """Greedy one-to-one matching, closest pairs first; the absolute errors of the matched pairs."""
    pairs = sorted((abs(o - lab), i, j) for i, o in enumerate(ours) for j, lab in enumerate(labeled)
                   if abs(o - lab) <= within)
    used_ours, used_labeled, errors = set(), set(), []
    for err, i, j in pairs:
        if i not in used_ours and j not in used_labeled:
            used_ours.add(i)
            used_labeled.add(j)
            errors.append(err)
    return errors


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)  # = harmonic mean of precision and recall
    return {"precision": precision, "recall": recall, "f1": f1}


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def score(labels: list[dict], results: dict[str, dict]) -> dict:
    """Evaluation metrics and a per-clip table from labels and per-clip results.

    `results` maps a label's file name to `clip_result(...)`, or to
    {"error": message} when the clip could not be analysed (a missing result
    counts the same): such a clip misses its rep count and view and is left
    out of fault scoring.
    """
    rep_hits, rep_errors, rep_skipped = 0, [], 0
    bottom_errors, bottoms_labeled, bottoms_ours = [], 0, 0
    view_hits, view_n, confusion = 0, 0, {}
    per_view = {v: {"n": 0, "correct": 0} for v in SCORED_VIEWS}
    counts = {c: dict(tp=0, fp=0, fn=0, tn=0, excluded_unclear=0, excluded_not_measurable=0, failed=0)
              for c in fault_codes()}
    seen = {c: dict(tp=0, fp=0, fn=0, tn=0, cant_tell=0) for c in fault_codes()}  # any-rep findings
    clean_clips, flagged_clean = 0, []
    reliability = [dict(lo=lo, hi=hi, findings=0, true=0) for lo, hi in zip(CONFIDENCE_EDGES, CONFIDENCE_EDGES[1:])]
    rows = []
    for label in labels:
        res = results.get(label["file"]) or {"error": "no result"}
        failed = "error" in res
        ours = None if failed else int(res["reps"])
        row = {"clip": label["file"], "confidence": label.get("confidence", ""),
               "label_reps": "|".join(map(str, defensible_counts(label))),
               "our_reps": "" if ours is None else ours, "reps_match": "", "bottom_err_max_s": "",
               "label_view": label_view(label), "our_view": "" if failed else res["view"], "view_match": ""}

        if label.get("confidence") == "low":
            rep_skipped += 1
            row["reps_match"] = "skipped"
        else:
            ok = ours in defensible_counts(label)
            rep_hits += ok
            # Distance to the nearest defensible count, so a clip that matches has error 0.
            rep_errors.append(min(abs((ours or 0) - c) for c in defensible_counts(label)))
            row["reps_match"] = "yes" if ok else "no"
            if not failed and label.get("rep_bottoms_s"):
                errs = match_bottoms(res["rep_bottoms_s"], label["rep_bottoms_s"])
                bottom_errors += errs
                bottoms_labeled += len(label["rep_bottoms_s"])
                bottoms_ours += len(res["rep_bottoms_s"])
                row["bottom_err_max_s"] = round(max(errs), 3) if errs else ""

        lv = row["label_view"]
        if lv in SCORED_VIEWS:
            ok = not failed and res["view"] == lv
            view_n += 1
            view_hits += ok
            per_view[lv]["n"] += 1
            per_view[lv]["correct"] += ok
            cell = confusion.setdefault(lv, {})
            cell[row["our_view"] or "failed"] = cell.get(row["our_view"] or "failed", 0) + 1
            row["view_match"] = "yes" if ok else "no"

        truth = set(label.get("clip_faults") or [])
        unclear = set(label.get("clip_unclear") or [])
        found = set() if failed else set(res["faults"])
        found_any = set() if failed else set(res.get("rep_faults", res["faults"]))
        doubtful = set() if failed else set(res.get("cant_tell") or [])
        missing = set() if failed else set(res.get("not_measurable") or [])
        fp, fn, excluded, seen_fp = [], [], [], []
        for code in fault_codes():
            c = counts[code]
            if code in unclear:
                c["excluded_unclear"] += 1
            elif failed:
                c["failed"] += 1
            elif code in missing:
                c["excluded_not_measurable"] += 1
                excluded.append(code)
            else:
                key = ("tp" if code in found else "fn") if code in truth else ("fp" if code in found else "tn")
                c[key] += 1
                if key == "fp":
                    fp.append(code)
                elif key == "fn":
                    fn.append(code)
                # Can't tell is never a finding: it counts as not found.
                key = ("tp" if code in found_any else "fn") if code in truth else ("fp" if code in found_any else "tn")
                seen[code][key] += 1
                seen[code]["cant_tell"] += code in doubtful and code not in found_any
                if key == "fp":
                    seen_fp.append(code)
        for code, conf in ({} if failed else res.get("confidence") or {}).items():
            if code not in unclear and code not in missing:
                cell = next(b for b in reliability if conf < b["hi"] or b is reliability[-1])
                cell["findings"] += 1
                cell["true"] += code in truth
        if not failed and not truth & set(fault_codes()):
            clean_clips += 1
            if seen_fp:
                flagged_clean.append(label["file"])
        row.update(label_faults=";".join(sorted(truth & set(fault_codes()))),
                   our_faults=";".join(sorted(found)), any_rep_faults=";".join(sorted(found_any)),
                   any_rep_false_pos=";".join(seen_fp), cant_tell=";".join(sorted(doubtful - found_any)),
                   false_pos=";".join(fp), false_neg=";".join(fn),
                   not_measurable=";".join(excluded), error=res.get("error", ""))
        rows.append(row)

    scored = len(rep_errors)
    faults = {}
    for code, c in counts.items():
        faults[code] = {**c, "scored": c["tp"] + c["fp"] + c["fn"] + c["tn"], "positives": c["tp"] + c["fn"],
                        **_prf(c["tp"], c["fp"], c["fn"])}
    return {
        "clips": len(labels),
        "failed": sum(1 for r in rows if r["error"]),
        "rep_count": {"scored": scored, "skipped_low_confidence": rep_skipped,
                      "exact_match_rate": _ratio(rep_hits, scored), "exact_matches": rep_hits,
                      "mean_abs_error": _mean(rep_errors)},
        "rep_bottoms": {"labeled": bottoms_labeled, "ours": bottoms_ours, "matched": len(bottom_errors),
                        "within_s": BOTTOM_MATCH_S, "mean_err_s": _mean(bottom_errors),
                        "max_err_s": max(bottom_errors) if bottom_errors else None},
        "view": {"scored": view_n, "accuracy": _ratio(view_hits, view_n),
                 "per_label": {v: {**d, "accuracy": _ratio(d["correct"], d["n"])} for v, d in per_view.items()},
                 "confusion": confusion},
        "faults": faults,
        "seen": _seen_summary(seen, clean_clips, flagged_clean),
        # Is a finding shown at confidence c right about a share c of the time? Per clip and fault.
        "reliability": [{**b, "share_true": _ratio(b["true"], b["findings"])} for b in reliability],
        "per_clip": rows,
    }


def _seen_summary(seen: dict, clean_clips: int, flagged_clean: list[str]) -> dict:
    """Scores of what the user reads (a finding in any rep counts): micro
    precision and recall over all faults, clean clips with a false finding,
    and per fault the share of scored clips that were "can't tell"."""
    tp, fp, fn = (sum(c[k] for c in seen.values()) for k in ("tp", "fp", "fn"))
    per_fault = {}
    for code, c in seen.items():
        scored = c["tp"] + c["fp"] + c["fn"] + c["tn"]
        per_fault[code] = {**c, "scored": scored, "cant_tell_rate": _ratio(c["cant_tell"], scored),
                           **_prf(c["tp"], c["fp"], c["fn"])}
    return {"micro": {"tp": tp, "fp": fp, "fn": fn, **_prf(tp, fp, fn)},
            "clean_clips": clean_clips, "clean_clips_flagged": len(flagged_clean),
            "clean_flagged_rate": _ratio(len(flagged_clean), clean_clips), "flagged_clean": flagged_clean,
            "per_fault": per_fault}


BAND_FACTORS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5)  # candidate thresholds: the packaged bands scaled


def read_sources(path: Path) -> dict[str, str]:
    """clip -> source (repository or lifter) from a SOURCES.tsv: a header
    row, then `file<TAB>source<TAB>...` per clip."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return {r[0]: r[1] for r in rows if len(r) >= 2}


def held_out(labels: list[dict], analyses: dict[str, object], min_share: float,
             sources: dict[str, str] | None = None) -> tuple[dict[str, dict], dict]:
    """Leave one source out: for each clip, every fault's bands are chosen on
    the clips of every other source (the scale of the packaged bands that
    scores best there, precision weighted twice as much as recall; ties keep
    the packaged bands), then that clip is judged with them. Clips of one
    repository or lifter share a fold, since they leak into each other's;
    without `sources` each clip is its own. Returns per-clip results as
    clip_result gives them, and the factors chosen per clip and fault."""
    from dataclasses import replace

    from formcheck.analyze import judge

    usable = {f: a for f, a in analyses.items() if a is not None and a.specs}
    specs = next(iter(usable.values())).specs if usable else ()
    # Whether each clip shows each fault in any rep under each candidate: judged once, reused by every fold.
    shown: dict[tuple[str, float], dict[str, bool]] = {}
    for spec in specs:
        for k in BAND_FACTORS:
            scaled = replace(spec, bands=tuple(b * k for b in spec.bands))
            one = tuple(scaled if s.code == spec.code else s for s in specs)
            shown[spec.code, k] = {f: any(r.findings[spec.code].is_fault for r in judge(a.reps, one, min_share)[0])
                                   for f, a in usable.items()}
    truth = {lab["file"]: (set(lab.get("clip_faults") or []), set(lab.get("clip_unclear") or [])) for lab in labels}
    chosen: dict[str, dict[str, float]] = {}
    results: dict[str, dict] = {}

    def source(clip: str) -> str:
        return (sources or {}).get(clip, clip)

    for f, a in usable.items():
        pick = {}
        for spec in specs:
            def f_half(k: float) -> float:
                tp = fp = fn = 0
                for g in usable:
                    pos, unclear = truth.get(g, (set(), set()))
                    if source(g) == source(f) or spec.code in unclear:
                        continue
                    hit = shown[spec.code, k][g]
                    tp += hit and spec.code in pos
                    fp += hit and spec.code not in pos
                    fn += (not hit) and spec.code in pos
                return (1.25 * tp) / (1.25 * tp + 0.25 * fn + fp) if tp else 0.0
            pick[spec.code] = max(BAND_FACTORS, key=lambda k: (round(f_half(k), 9), -abs(k - 1.0)))
        chosen[f] = pick
        fold = tuple(replace(s, bands=tuple(b * pick[s.code] for b in s.bands)) for s in specs)
        reps, found = judge(a.reps, fold, min_share)
        results[f] = clip_result(replace(a, reps=reps, faults=found))
    return results, chosen


def _fmt(x, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def format_table(ev: dict) -> str:
    """The per-clip table (disagreements marked with *) and the summary metrics."""
    out = [f"{'clip':<38} {'conf':<6} {'reps lab/ours':>13} {'bot.err':>7}  {'view lab/ours':<17} faults (label / ours)"]
    for r in ev["per_clip"]:
        reps_mark = "*" if r["reps_match"] == "no" else " "
        view_mark = "*" if r["view_match"] == "no" else " "
        faults = f"{r['label_faults'] or '-'} / {r['our_faults'] or '-'}"
        if r["false_pos"] or r["false_neg"]:
            faults += "  *" + " ".join([f"+{c}" for c in r["false_pos"].split(";") if c]
                                       + [f"-{c}" for c in r["false_neg"].split(";") if c])
        if r["error"]:
            faults = f"ERROR: {r['error']}"
        bottom = "" if r["bottom_err_max_s"] == "" else f"{r['bottom_err_max_s']:.2f}"
        out.append(f"{r['clip'][:38]:<38} {r['confidence'][:6]:<6} {r['label_reps']:>6}/{str(r['our_reps']):<4}{reps_mark}"
                   f"  {bottom:>6}  {r['label_view'] + '/' + r['our_view']:<16}{view_mark} {faults}")
    out.append("  (* disagreement; +code: we report a fault the label does not, -code: we miss a labeled fault)")
    rc, rb, v = ev["rep_count"], ev["rep_bottoms"], ev["view"]
    out += ["",
            f"clips: {ev['clips']} ({ev['failed']} failed)",
            f"rep count: exact {rc['exact_matches']}/{rc['scored']} = {_fmt(rc['exact_match_rate'], 3)}, "
            f"mean abs error {_fmt(rc['mean_abs_error'], 3)} ({rc['skipped_low_confidence']} low-confidence skipped)",
            f"rep bottoms: {rb['matched']} of {rb['labeled']} labeled matched within {rb['within_s']:g} s "
            f"(we found {rb['ours']}); error mean {_fmt(rb['mean_err_s'], 3)} s, max {_fmt(rb['max_err_s'], 3)} s",
            f"view: {_fmt(v['accuracy'], 3)} of {v['scored']} ("
            + ", ".join(f"{k} {d['correct']}/{d['n']}" for k, d in v["per_label"].items()) + ")",
            "",
            f"{'fault':<20} {'tp':>3} {'fp':>3} {'fn':>3} {'tn':>3} {'prec':>5} {'rec':>5} {'f1':>5}  excluded: unclear, not measurable"]
    for code, f in ev["faults"].items():
        out.append(f"{code:<20} {f['tp']:>3} {f['fp']:>3} {f['fn']:>3} {f['tn']:>3} {_fmt(f['precision']):>5} "
                   f"{_fmt(f['recall']):>5} {_fmt(f['f1']):>5}  {f['excluded_unclear']}, {f['excluded_not_measurable']}")
    s = ev["seen"]
    out += ["", "As the lifter reads it (a finding in any rep counts; can't tell is not a finding):",
            f"{'fault':<20} {'tp':>3} {'fp':>3} {'fn':>3} {'tn':>3} {'prec':>5} {'rec':>5}  can't tell"]
    for code, f in s["per_fault"].items():
        out.append(f"{code:<20} {f['tp']:>3} {f['fp']:>3} {f['fn']:>3} {f['tn']:>3} {_fmt(f['precision']):>5} "
                   f"{_fmt(f['recall']):>5}  {f['cant_tell']} ({_fmt(f['cant_tell_rate'])})")
    m = s["micro"]
    out.append(f"all faults: {m['tp']} true, {m['fp']} false, {m['fn']} missed: precision {_fmt(m['precision'])}, "
               f"recall {_fmt(m['recall'])}; clean clips with a false finding: {s['clean_clips_flagged']} of "
               f"{s['clean_clips']} ({_fmt(s['clean_flagged_rate'])})")
    out += ["", "Confidence against the labels (each clip's most confident finding of each fault, possible ones included):"]
    for b in ev["reliability"]:
        out.append(f"  {b['lo']:.2f}-{b['hi']:.2f}: {b['findings']:>3} findings, {b['true']:>3} true"
                   f" ({_fmt(b['share_true'])})")
    return "\n".join(out) + "\n"


def write_evaluation(ev: dict, out: Path, labels_path: str) -> list[Path]:
    from formcheck.media.atomic import write_text
    from formcheck.outputs.report import rows_to_csv

    if out.exists() and not out.is_dir():
        raise FormcheckError(f"--out must be a folder: {out}")
    json_path, csv_path = out / "evaluation.json", out / "evaluation.csv"
    write_text(json_path, json.dumps({"schema": SCHEMA, "labels": str(labels_path), **ev}, indent=2) + "\n")
    write_text(csv_path, rows_to_csv(ev["per_clip"]))
    return [json_path, csv_path]
