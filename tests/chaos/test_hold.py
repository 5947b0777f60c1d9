"""Holding upstream requests until released, through the proxy and in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from json_target import Target, run

from readiness.chaos.inprocess import InProcessInjector, invalid_base_url
from readiness.chaos.proxy import RecordingProxy
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import FaultSchedule
from readiness.chaos.server import HttpServer

BASE = invalid_base_url("crm", "")


@asynccontextmanager
async def client_for(transport: str, schedule: FaultSchedule, target: Target
                     ) -> AsyncIterator[httpx.AsyncClient]:
    recorder = Recorder()
    if transport == "proxy":
        async with (HttpServer(target) as server,
                    RecordingProxy("crm", server.url, recorder, steps=[schedule]) as proxy,
                    httpx.AsyncClient(base_url=proxy.url, timeout=10) as client):
            yield client
    else:
        with InProcessInjector(schedule, recorder, {"crm": BASE}, {"crm": target}):
            async with httpx.AsyncClient(base_url=BASE, timeout=10) as client:
                yield client


@pytest.mark.parametrize("transport", ["proxy", "inprocess"])
def test_held_requests_wait_for_release_and_others_pass(transport: str) -> None:
    async def body() -> None:
        schedule, target = FaultSchedule(), Target()
        async with client_for(transport, schedule, target) as client:
            with schedule.holding(upstream="crm", route="POST /leads/*") as hold:
                held = [asyncio.create_task(client.post(f"/leads/{n}")) for n in range(3)]
                assert await hold.arrived(3, timeout=10) == 3
                assert not target.requests  # nothing reached the target yet
                other = await client.get("/reps")  # a route the hold does not match
                assert other.status_code == 200
                assert [r.target for r in target.requests] == ["/reps"]
                assert not any(task.done() for task in held)
                hold.release()
                answers = await asyncio.gather(*held)
            assert [a.status_code for a in answers] == [200, 200, 200]
            assert len(target.requests) == 4
            assert schedule.idle
            # after the block nothing is held any more
            assert (await client.post("/leads/9")).status_code == 200

    run(body())


def test_arrived_times_out_naming_how_many_came() -> None:
    async def body() -> None:
        schedule = FaultSchedule()
        with (schedule.holding(upstream="crm") as hold,
              pytest.raises(TimeoutError, match="0 of 2 expected upstream requests")):
            await hold.arrived(2, timeout=0.01)

    run(body())


def test_leaving_the_block_releases_what_is_held() -> None:
    async def body() -> None:
        schedule, target = FaultSchedule(), Target()
        async with client_for("proxy", schedule, target) as client:
            with schedule.holding(upstream="crm") as hold:
                task = asyncio.create_task(client.get("/x"))
                await hold.arrived(1, timeout=10)
            assert (await task).status_code == 200

    run(body())
