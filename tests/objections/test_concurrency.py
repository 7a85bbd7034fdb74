"""Concurrent filings, decisions and loads keep a record and its history consistent
(threads against a real database file, or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from hutong.catalog import service as catalog_service
from hutong.core.errors import Conflict
from hutong.core.security import SYSTEM
from hutong.datastore import history
from hutong.datastore import service as datastore_service
from hutong.objections import service
from hutong.objections.schemas import Decision, ObjectionCreate
from tests.gateway.test_gateway import people, rid
from tests.objections.world import World


@pytest.fixture
def world(client, db, settings):
    return World(client, db, settings)


def together(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs in threads released at once; return each result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def filing(world, actor, fields, proposed):
    def job():
        with world.db.session_scope() as s:
            return service.file_objection(
                session=s,
                actor=actor,
                settings=world.settings,
                data=ObjectionCreate(
                    resource=world.resource.id,
                    record_key=rid(3),
                    fields=fields,
                    proposed=proposed,
                    explanation="记录有误，请核实。",
                ),
            )

    return job


def deciding(world, objection_id, decision="accept"):
    def job():
        with world.db.session_scope() as s:
            return service.decide(
                session=s,
                actor=world.steward_user,
                settings=world.settings,
                objection_id=objection_id,
                data=Decision(decision=decision, reasons="经核实"),
            )

    return job


def record(world):
    with world.db.session_scope() as s:
        row = catalog_service.get_row(session=s, resource_ref=world.resource.id)
        current = history.read_record(session=s, resource=row, record_key=rid(3))
        changes = history.history(session=s, resource_id=row.id, record_key=rid(3))
        return current, changes


def app_actor(world, consumer):
    from hutong.identity.service import actor_from_api_key

    with world.db.session_scope() as s:
        return actor_from_api_key(session=s, key=consumer.key)


def test_two_objections_on_one_record_filed_and_corrected_at_once(world):
    world.a.lookup(3)
    first, second = together(
        filing(world, world.citizen_user, ["children"], {"children": 1}),
        filing(world, app_actor(world, world.a), ["name"], {"name": "张三"}),
    )
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    flags = world.a.lookup(3)["flags"]
    assert {f["field"] for f in flags} == {"children", "name"}

    results = together(deciding(world, first.id), deciding(world, second.id))
    assert all(not isinstance(r, Exception) for r in results), results
    current, changes = record(world)
    assert current["name"] == "张三" and current["children"] == 1
    # the history chains: replaying it from the loaded values gives today's record
    state = {"name": "张丰3", "children": 0}
    for change in changes:
        assert {k: state[k] for k in change.before} == change.before
        state.update(change.after)
    assert state == {"name": current["name"], "children": current["children"]}
    assert world.a.lookup(3)["flags"] == []


def test_one_objection_decided_twice_at_once_is_decided_once(world):
    objection = filing(world, world.citizen_user, ["children"], {"children": 1})()
    results = together(deciding(world, objection.id), deciding(world, objection.id, "reject"))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    done = [r for r in results if not isinstance(r, Exception)]
    assert len(conflicts) == 1 and len(done) == 1, results
    _, changes = record(world)
    assert len(changes) == (1 if done[0].status == "corrected" else 0)


def test_a_correction_racing_a_load_keeps_record_and_history_consistent(world, tmp_path):
    objection = filing(world, world.citizen_user, ["children"], {"children": 2})()
    data = people(range(10)).decode().replace(f"{rid(3)},张丰3,", f"{rid(3)},张丰3,", 1)
    lines = data.splitlines()
    lines = [
        line if not line.startswith(rid(3)) else line.rsplit(",", 1)[0] + ",5" for line in lines
    ]
    source = tmp_path / "reload.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def load():
        with world.db.session_scope() as s:
            return datastore_service.ingest_file(
                session=s, actor=SYSTEM, resource_ref=world.resource.id, path=source
            )

    results = together(deciding(world, objection.id), load)
    assert all(not isinstance(r, Exception) for r in results), results
    current, changes = record(world)
    assert len(changes) == 1
    change = changes[0]
    assert change.after == {"children": 2}
    # either the load came first (the correction saw 5 and wrote 2) or last (it wrote 5
    # over the correction, which had seen the loaded 0): never a history that lies
    assert (current["children"] == 2 and change.before == {"children": 5}) or (
        current["children"] == 5 and change.before == {"children": 0}
    )
