"""``flask --app wsgi ...`` as its own process, from the project's root, as an operator runs
it: for tests that drive the production entry point (gunicorn, Celery, the CLI)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def flask_cli(env: dict, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi *args`` with ``env``; it must succeed (its stderr otherwise)."""
    result = subprocess.run(
        [BIN / "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result
