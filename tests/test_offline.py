"""formcheck promises to run offline: a whole `analyze`, pose inference
included, makes no network connection and no DNS lookup.

The run happens in a fresh network namespace (`unshare -n`: only a loopback
device, so nothing could leave even by accident) under `strace -f -e
trace=network`, which logs every socket call of the process and its threads
and children. The log must hold no connect/sendto/sendmsg to an internet
address (AF_INET, AF_INET6) and nothing to port 53. Local sockets (AF_UNIX,
e.g. the name-service cache, and netlink) are not network traffic.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLIP = "dnly09_gf_1_goodform.mp4"  # 87 frames: inference takes a few seconds
SENDING = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(")
INTERNET = re.compile(r"AF_INET6?\b")
DNS = re.compile(r"htons\(53\)|:53\b")


def network_attempts(log: str) -> list[str]:
    """Lines of an strace network log that try to reach another machine."""
    return [line for line in log.splitlines()
            if SENDING.search(line) and (INTERNET.search(line) or DNS.search(line))]


def _namespace_prefix() -> list[str]:
    """The command prefix that gives a fresh network namespace here, or skip."""
    for tool in ("unshare", "strace"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: apt-get install util-linux strace)")
    # As root `unshare -n` is enough; elsewhere a user namespace may allow it.
    for prefix in (["unshare", "-n"], ["unshare", "-r", "-n"]):
        probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
        if probe.returncode == 0:
            return prefix
    pytest.skip(f"unshare is not permitted here: {probe.stderr.strip()}")


def run_isolated(tmp_path: Path, command: list[str]) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / f"strace-{len(list(tmp_path.glob('strace-*')))}.log"
    env = {**os.environ, "FORMCHECK_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run([*_namespace_prefix(), "strace", "-f", "-e", "trace=network", "-o", str(log),
                          *command], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    if not log.exists():
        pytest.skip(f"strace could not trace here: {res.stderr.strip()[-200:]}")
    return res, log.read_text()


def test_the_check_catches_a_dns_lookup(tmp_path):
    """The same harness must flag a program that does look a name up, or a
    clean log below would prove nothing."""
    res, log = run_isolated(tmp_path, [sys.executable, "-c",
                                       "import socket\ntry: socket.getaddrinfo('example.com', 80)\n"
                                       "except OSError: pass"])
    assert res.returncode == 0, res.stderr
    assert network_attempts(log), log


@pytest.mark.real
def test_analyze_makes_no_network_connection(tmp_path, videos):
    res, log = run_isolated(tmp_path, [sys.executable, "-m", "formcheck", "analyze", str(videos / CLIP),
                                       "--no-cache", "--quiet", "--json", str(tmp_path / "r.json")])
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r.json").is_file(), "the analysis must have run, inference included"
    assert network_attempts(log) == [], "\n".join(network_attempts(log))


@pytest.mark.real
def test_a_voiced_live_session_makes_no_network_connection(tmp_path, videos):
    """Speech runs offline too: the engine's own process is traced with the rest (strace -f)."""
    pytest.importorskip("pyttsx3", reason="the voice extra is not installed")
    voice = tmp_path / "cues.wav"
    res, log = run_isolated(tmp_path, [sys.executable, "-m", "formcheck", "live", "--source", str(videos / CLIP),
                                       "--no-window", "--voice-out", str(voice), "--session-log",
                                       str(tmp_path / "s.json"), "-q"])
    assert res.returncode == 0, res.stderr
    said = json.loads((tmp_path / "s.json").read_text())
    if "voice_note" in said:
        pytest.skip(f"no speech engine here: {said['voice_note']}")
    assert voice.is_file() and said["spoken"], "the voice must have spoken the rep count"
    assert network_attempts(log) == [], "\n".join(network_attempts(log))
