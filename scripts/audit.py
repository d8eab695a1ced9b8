"""Known vulnerabilities in the locked dependencies (``make audit``, ``.ci/run``).

pip-audit asks a vulnerability service about every pinned version of the lock files. A service
that cannot be reached (no network, a proxy that blocks PyPI's per-version JSON API, no DNS
for api.osv.dev) makes pip-audit *skip* packages and still exit 0, which would pass the build
without auditing anything. So, for each service in turn (PyPI, then OSV):

1. the service must flag a canary, a pin with a long-known vulnerability (jinja2 2.10,
   CVE-2019-10906); if it does not, the service is unusable from here, try the next;
2. with the first service that flags the canary, the lock files are audited: any known
   vulnerability fails (exit 1), and so does any package the service skipped.

Only when no service flags the canary (shown unreachable) does the audit pass, with a loud
warning that nothing was audited; ``LMS_AUDIT_REQUIRED=1`` makes that a failure too (for a
machine that must audit). ``PIP_AUDIT`` names the pip-audit executable.

Usage: python scripts/audit.py [requirements/app.txt requirements/dev.txt]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("pypi", "osv")
CANARY = "jinja2==2.10"  # CVE-2019-10906 (PYSEC-2019-217, GHSA-462w-v97r-4m45)
DEFAULT_LOCKS = ("requirements/app.txt", "requirements/dev.txt")
# Known vulnerabilities that do not apply to lms: {id: why}. Keep it empty when possible.
IGNORED: dict[str, str] = {}


def pip_audit(service: str, requirements: list[Path]) -> tuple[int, dict | None, str]:
    """Run pip-audit; (exit code, its JSON report or None, stderr)."""
    executable = os.environ.get("PIP_AUDIT") or shutil.which("pip-audit") or "pip-audit"
    command = [executable, "--vulnerability-service", service, "--format", "json"]
    command += ["--progress-spinner", "off", "--disable-pip", "--no-deps", "--timeout", "20"]
    for path in requirements:
        command += ["--requirement", str(path)]
    for vulnerability in IGNORED:
        command += ["--ignore-vuln", vulnerability]
    done = subprocess.run(  # noqa: S603 (our command line; the executable is pip-audit)
        command, capture_output=True, text=True, timeout=900, check=False
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return done.returncode, report, done.stderr.strip()


def vulnerable(report: dict) -> list[str]:
    return [
        f"{dep['name']} {dep.get('version', '?')}: {vuln['id']} (fixed in "
        f"{', '.join(vuln.get('fix_versions') or ['no release yet'])})"
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    ]


def skipped(report: dict) -> list[str]:
    return [
        f"{dep['name']}: {dep['skip_reason']}"
        for dep in report.get("dependencies", [])
        if dep.get("skip_reason")
    ]


def service_works(service: str) -> tuple[bool, str]:
    """Does ``service`` flag the canary from this machine? (yes/no, why not)"""
    with tempfile.TemporaryDirectory() as folder:
        canary = Path(folder) / "canary.txt"
        canary.write_text(CANARY + "\n")
        _code, report, stderr = pip_audit(service, [canary])
    if report is None:
        return False, (stderr.splitlines() or ["no report"])[-1]
    if vulnerable(report):
        return True, ""
    return False, "; ".join(skipped(report)) or f"{CANARY} was not flagged"


def main(argv: list[str]) -> int:
    locks = [ROOT / name for name in (argv or DEFAULT_LOCKS)]
    reasons = {}
    for service in SERVICES:
        works, why = service_works(service)
        if not works:
            reasons[service] = why
            continue
        code, report, stderr = pip_audit(service, locks)
        if report is None:
            print(f"pip-audit failed ({service}): {stderr}", file=sys.stderr)
            return 1
        found, missing = vulnerable(report), skipped(report)
        for line in found:
            print(f"VULNERABLE {line}")
        for line in missing:
            print(f"NOT AUDITED {line}")
        audited = len(report.get("dependencies", [])) - len(missing)
        print(f"pip-audit ({service}): {audited} pinned packages audited, {len(found)} known "
              f"vulnerabilities, {len(missing)} not audited.")  # fmt: skip
        return 1 if found or missing or code not in (0, 1) else 0
    lines = [
        "!" * 78,
        "WARNING: the dependencies were NOT audited for known vulnerabilities.",
        f"No vulnerability service flagged the canary {CANARY} from this machine:",
        *(f"  {service}: {why}" for service, why in reasons.items()),
        "Run `make audit` where PyPI's JSON API or api.osv.dev is reachable.",
        "!" * 78,
    ]
    print("\n".join(lines), file=sys.stderr)
    return 1 if os.environ.get("LMS_AUDIT_REQUIRED") == "1" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
