"""The layout keeps its promises: no import circle, a numeric core free of
media and model libraries, a stated concern per folder, and the picture in
docs/architecture.md drawn from the code as it is."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("architecture", ROOT / "docs" / "architecture.py")
architecture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(architecture)

HEAVY = ("cv2", "mediapipe", "av", "matplotlib", "starlette", "uvicorn", "jinja2", "dask", "distributed", "tqdm")


def test_no_import_circle_between_modules_or_folders():
    assert architecture.cycles(architecture.module_graph()) == []
    assert architecture.cycles(architecture.unit_graph()) == []


def test_the_core_only_looks_down():
    graph = architecture.unit_graph()
    assert graph["kinematics"] <= {"pose", "foundation"}
    assert graph["coach"] <= {"kinematics", "pose", "foundation"}
    assert graph["media"] <= {"foundation"}
    # The core reads the pose layer's data type, nothing that runs a model.
    reads = {d for m, deps in architecture.module_graph().items() if m.startswith("formcheck.kinematics")
             for d in deps if d.startswith("formcheck.pose")}
    assert reads <= {"formcheck.pose", "formcheck.pose.track"}


def test_numeric_core_and_rules_import_without_media_model_or_web_libraries():
    core = [m for m in architecture.modules() if m.startswith(("formcheck.kinematics", "formcheck.coach"))]
    code = (f"import sys, json; [__import__(m) for m in {core + ['formcheck.analyze']!r}]; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_every_folder_states_its_concern():
    for init in sorted((ROOT / "formcheck").rglob("__init__.py")):
        if init.parent.name in ("templates", "static"):
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc.split()) >= 8, f"{init} has no docstring saying what it owns"


def test_the_document_shows_the_graph_of_the_code():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn = text.split(architecture.BEGIN, 1)[1].split(architecture.END, 1)[0].strip()
    assert drawn == architecture.diagram(), "run `python docs/architecture.py --write`"
