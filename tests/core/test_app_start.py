"""What a served worker does as its app starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

SCRIPT = textwrap.dedent(
    """
    import gc, sys
    from fastapi.testclient import TestClient
    from hutong.app import create_app
    from hutong.core.settings import Settings

    settings = Settings(
        home=sys.argv[1], database_url=sys.argv[2], audit_checkpoint_seconds=0,
        gc_freeze=sys.argv[3] == "on",
    )
    before = gc.get_freeze_count()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        print(before, gc.get_freeze_count())
    """
)


def _frozen(tmp_path: Path, database_url: str, switch: str) -> tuple[int, int]:
    home = tmp_path / f"home-{switch}"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home), database_url, switch],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = map(int, done.stdout.split())
    return before, after


def test_a_started_app_freezes_what_it_made_unless_told_not_to(tmp_path, database_url):
    """A full collection then walks only what requests made (decision 0019)."""
    before, after = _frozen(tmp_path, database_url, "on")
    assert before == 0 and after > 10_000  # the modules, the app and its caches
    assert _frozen(tmp_path, database_url, "off") == (0, 0)
