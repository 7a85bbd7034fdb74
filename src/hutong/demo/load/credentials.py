"""What a person needs to try the demo (URLs, users, API keys), printed and saved to a file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CREDENTIALS_FILE = "demo-credentials.json"


@dataclass
class DemoCredentials:
    """What a person needs to try the demo: URLs, users with passwords, API keys."""

    base_url: str
    users: list[dict[str, Any]] = field(default_factory=list)
    apps: list[dict[str, Any]] = field(default_factory=list)
    gateway: dict[str, str] = field(default_factory=dict)  # an app, scenario and key to try
    path: Path | None = None

    @property
    def summary(self) -> str:
        lines = [
            "",
            "hutong demo node (演示环境 — generated, fictitious data)",
            f"  open        {self.base_url}/",
            f"  catalog     {self.base_url}/catalog",
            f"  API docs    {self.base_url}/api/v1/docs",
            f"  CKAN API    {self.base_url}/api/3/action/package_search?q=人口",
            f"  DCAT-AP     {self.base_url}/catalog.ttl",
            "  users (user name / password / roles):",
        ]
        for u in self.users[:8]:
            lines.append(f"    {u['username']:<22} {u['password']:<26} {','.join(u['roles'])}")
        if len(self.users) > 8:
            lines.append(f"    … {len(self.users) - 8} more")
        if self.apps:
            a = self.apps[0]
            lines.append(f"  an API key ({a['organization']}): {a['api_key']}")
        if self.gateway:
            lines += ["  call the data gateway (a granted scenario; masked fields, audited):"]
            lines += [f"    {line}" for line in gateway_curl(self.base_url, self.gateway)]
        if self.path:
            lines.append(f"  all credentials: {self.path}")
        return "\n".join(lines)


def gateway_curl(base_url: str, gateway: dict[str, str]) -> list[str]:
    """Shell lines that look up one person through the gateway with a demo app's key.

    Short lines: a console wraps long ones, and a wrapped command no longer pastes.
    """
    return [
        f"N='{base_url}'",
        f"K='{gateway['api_key']}'",
        f"S='{gateway['scenario_id']}'",
        f"R='{gateway['resource_id']}'",
        'curl -H "Authorization: Bearer $K" -H "X-Hutong-Scenario: $S" \\',
        f'  "$N/gateway/v1/resources/$R/records/{gateway["key"]}"',
    ]


def write_credentials(path: Path, creds: DemoCredentials) -> None:
    """Save the credentials for the person trying the demo (readable by its owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "base_url": creds.base_url,
                "users": creds.users,
                "apps": creds.apps,
                "gateway": creds.gateway,
            },
            fh,
            ensure_ascii=False,
            indent=2,
        )
