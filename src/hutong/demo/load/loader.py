"""Loading the demo node: the node, organizations, catalog, hosted tables, then the uses."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import ResourceCreate
from hutong.core.database import Database
from hutong.core.security import SYSTEM
from hutong.core.settings import Settings
from hutong.datastore import service as datastore_service
from hutong.demo import data
from hutong.demo.load.accounts import organizations_users_apps
from hutong.demo.load.credentials import CREDENTIALS_FILE, DemoCredentials, write_credentials
from hutong.demo.load.uses import data_uses
from hutong.identity import service as identity_service
from hutong.identity.schemas import NodeInit


def load_demo(
    *, db: Database, settings: Settings, people: int = 100_000, console: Console | None = None
) -> DemoCredentials:
    """Create the demo node once; a second run prints the existing credentials."""
    console = console or Console(stderr=True)
    path = settings.home / CREDENTIALS_FILE
    with db.session_scope() as session:
        existing = identity_service.get_node(session=session)
    if existing is not None and path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        return DemoCredentials(
            base_url=saved["base_url"],
            users=saved["users"],
            apps=saved["apps"],
            gateway=saved.get("gateway", {}),
            path=path,
        )
    creds = DemoCredentials(base_url=settings.base_url.rstrip("/"), path=path)
    with db.session_scope() as session:
        if existing is None:
            identity_service.init_node(
                session=session,
                keys_dir=settings.keys_dir,
                data=NodeInit(code=data.NODE),
                demo=True,
            )
        organizations_users_apps(session, settings, creds)
        for spec in _related_first(data.resource_specs()):
            catalog_service.create(
                session=session, actor=SYSTEM, data=ResourceCreate.model_validate(spec)
            )
    console.print(
        f"created {len(data.DEPARTMENTS)} organizations, "
        f"{len(data.resource_specs())} resources; generating hosted data …"
    )
    tables = data.hosted_tables(population_size=people)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("loading hosted tables", total=len(tables))
        with tempfile.TemporaryDirectory() as tmp:
            for code, table in tables.items():
                progress.update(task, description=f"loading {code} ({table.num_rows:,} rows)")
                file = Path(tmp) / f"{code}.parquet"
                pq.write_table(table, file)
                with db.session_scope() as session:
                    rid = catalog_service.get_row(session=session, resource_ref=code).id
                    datastore_service.ingest_file(
                        session=session,
                        actor=SYSTEM,
                        resource_ref=rid,
                        path=file,
                        filename=f"{code}.parquet",
                    )
                progress.advance(task)
    data_uses(db, settings, tables[data.POPULATION], creds)
    write_credentials(path, creds)
    return creds


def _related_first(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order specs so that every related resource is published before the one citing it.

    A reference that would close a cycle is dropped (the catalog refuses unknown relations).
    """
    by_code = {s["code"]: s for s in specs}
    ordered: list[dict[str, Any]] = []
    state: dict[str, str] = {}

    def visit(code: str) -> None:
        state[code] = "visiting"
        spec = by_code[code]
        kept = []
        for rel in spec.get("related", []):
            if rel not in by_code or state.get(rel) == "visiting":
                continue
            if state.get(rel) != "done":
                visit(rel)
            kept.append(rel)
        ordered.append({**spec, "related": kept})
        state[code] = "done"

    for code in by_code:
        if state.get(code) != "done":
            visit(code)
    return ordered
