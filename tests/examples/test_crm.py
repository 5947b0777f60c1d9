"""The example CRM: assignments, idempotency, conflicts, deletes, bounded memory."""

from __future__ import annotations

import tomllib

import httpx
import pytest
from crm_api import REPS, CrmStore, create_app

from .conftest import EXAMPLES

pytestmark = pytest.mark.anyio


def crm(store: CrmStore | None = None) -> httpx.AsyncClient:
    app = create_app(store or CrmStore())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crm")


async def assign(
    client: httpx.AsyncClient, lead: str = "lead-1", rep: str = "rep-apac", key: str | None = None,
    reason: str = "APAC",
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post(f"/leads/{lead}/assign", json={"rep_id": rep, "reason": reason},
                             headers=headers)


async def test_health_and_reps() -> None:
    client = crm()
    assert (await client.get("/health")).json() == {"status": "ok"}
    reps = (await client.get("/reps")).json()["reps"]
    assert {r["id"] for r in reps} == {r["id"] for r in REPS}


def test_the_agent_rules_only_name_reps_the_crm_knows() -> None:
    rules = tomllib.loads((EXAMPLES / "production/lead_router/rules/reps.toml").read_text())
    assert {r["id"] for r in rules["reps"]} <= {r["id"] for r in REPS}


async def test_assign_creates_one_assignment() -> None:
    client = crm()
    response = await assign(client)
    assert response.status_code == 201
    body = response.json()
    assert body["lead_id"] == "lead-1" and body["rep_id"] == "rep-apac"
    listed = (await client.get("/assignments")).json()["assignments"]
    assert [a["assignment_id"] for a in listed] == [body["assignment_id"]]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"rep_id": "rep-nobody", "reason": "x"}', 400),
        (b'{"reason": "x"}', 400),
        (b'{"rep_id": 3}', 400),
        (b"not json", 400),
        (b'["rep-apac"]', 400),
    ],
)
async def test_bad_assignments_are_400(content: bytes, status: int) -> None:
    response = await crm().post("/leads/l/assign", content=content)
    assert response.status_code == status and "error" in response.json()


async def test_a_second_assignment_of_the_same_lead_conflicts() -> None:
    client = crm()
    first = (await assign(client)).json()
    second = await assign(client, rep="rep-smb-inbound")
    assert second.status_code == 409
    assert second.json()["assignment_id"] == first["assignment_id"]


async def test_the_same_idempotency_key_replays_without_duplicating() -> None:
    store = CrmStore()
    client = crm(store)
    first = await assign(client, key="k1")
    again = await assign(client, key="k1")
    assert again.status_code == 201 and again.json() == first.json()
    assert len(store.assignments) == 1
    reused = await assign(client, key="k1", rep="rep-smb-inbound")
    assert reused.status_code == 422


async def test_delete_frees_the_lead_and_is_idempotent() -> None:
    client = crm()
    created = (await assign(client)).json()
    path = f"/assignments/{created['assignment_id']}"
    deleted = await client.delete(path)
    assert deleted.json() == {"assignment_id": created["assignment_id"], "status": "deleted"}
    assert (await client.delete(path)).status_code == 200
    assert (await client.delete("/assignments/asg-missing")).status_code == 404
    assert (await assign(client, rep="rep-smb-inbound")).status_code == 201
    by_lead = (await client.get("/assignments?lead_id=lead-1")).json()["assignments"]
    assert [a["deleted"] for a in by_lead] == [True, False]


async def test_memory_is_bounded() -> None:
    store = CrmStore(max_records=3)
    client = crm(store)
    for n in range(5):
        assert (await assign(client, lead=f"lead-{n}", key=f"k{n}")).status_code == 201
    assert len(store.assignments) == 3 and len(store.idempotency) == 3
    assert "k0" not in store.idempotency and "lead-0" not in store.active_by_lead


async def test_unknown_routes_and_methods_answer_json() -> None:
    client = crm()
    assert (await client.get("/nope")).json() == {"error": "Not Found"}
    assert (await client.get("/leads/l/assign")).status_code == 405
