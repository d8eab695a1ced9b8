"""scripts/audit.py decides from pip-audit's JSON report: a fake pip-audit plays the service
(up and clean, up with a vulnerability, up but skipping packages, down)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

FAKE = """#!{python}
import json, os, sys
args = sys.argv[1:]
files = [args[i + 1] for i, a in enumerate(args) if a == "--requirement"]
pins = [l.split()[0] for f in files for l in open(f) if "==" in l and not l.startswith("#")]
mode = os.environ["FAKE_AUDIT"]
deps = []
for pin in pins:
    name, version = pin.split("==")
    if mode == "down":
        deps.append({{"name": name, "skip_reason": "Dependency not found on PyPI"}})
    elif name == "jinja2" and version == "2.10" or mode == "vuln" and name == "flask":
        deps.append({{"name": name, "version": version,
                      "vulns": [{{"id": "PYSEC-X", "fix_versions": ["9.9"]}}]}})
    elif mode == "skips" and name == "flask":
        deps.append({{"name": name, "skip_reason": "Dependency not found on PyPI"}})
    else:
        deps.append({{"name": name, "version": version, "vulns": []}})
print(json.dumps({{"dependencies": deps, "fixes": []}}))
sys.exit(1 if any(d.get("vulns") for d in deps) else 0)
"""


@pytest.fixture
def run_audit(tmp_path):
    fake = tmp_path / "pip-audit"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    lock = tmp_path / "lock.txt"
    lock.write_text("flask==3.1.0 \\\n    --hash=sha256:00\nrequests==2.32.0\n")

    def run(mode: str, **env):
        environ = {k: v for k, v in os.environ.items() if k != "LMS_AUDIT_REQUIRED"}
        environ.update(PIP_AUDIT=str(fake), FAKE_AUDIT=mode, **env)
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "audit.py"), str(lock)],
            capture_output=True, text=True, env=environ, check=False,
        )  # fmt: skip

    return run


def test_clean_locks_pass(run_audit):
    done = run_audit("clean")
    assert done.returncode == 0, done.stderr
    assert "2 pinned packages audited, 0 known vulnerabilities" in done.stdout


def test_a_known_vulnerability_fails(run_audit):
    done = run_audit("vuln")
    assert done.returncode == 1
    assert "VULNERABLE flask 3.1.0: PYSEC-X (fixed in 9.9)" in done.stdout


def test_a_package_the_working_service_skipped_fails(run_audit):
    done = run_audit("skips")
    assert done.returncode == 1
    assert "NOT AUDITED flask" in done.stdout


def test_an_unreachable_service_warns_loudly_and_passes_unless_required(run_audit):
    done = run_audit("down")
    assert done.returncode == 0
    assert "NOT audited" in done.stderr and "canary jinja2==2.10" in done.stderr
    assert run_audit("down", LMS_AUDIT_REQUIRED="1").returncode == 1
