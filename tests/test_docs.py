"""Every setting is documented (Datasette's habit), and the README shows the two commands."""

from __future__ import annotations

from pathlib import Path

from hutong.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"HUTONG_{n.upper()}" not in doc]
    assert not missing, f"settings missing from docs/operators.md: {missing}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
