"""The KIS outage told once, even across a wiped Redis (docs/ARCHITECTURE.md, 'When KIS does not
answer')."""

from __future__ import annotations

from pathlib import Path

import redis

from services.scheduler.kis_outage import OutageNotices
from shared.infra.redis_keys import Keys
from shared.kis.reachability import KisReachability
from shared.messaging.events import Event, KisBack, KisOutage

KEYS = Keys()
ENV = "paper"


def notices(client: redis.Redis, told: list[Event], folder: Path | None) -> OutageNotices:
    return OutageNotices(
        client,
        KEYS.kis_outage(ENV),
        KEYS.kis_outage_told(ENV),
        told.append,
        told_file=None if folder is None else folder / f"outage-told-{ENV}",
    )


def test_an_outage_is_told_once_and_its_end_once(redis_client: redis.Redis) -> None:
    told: list[Event] = []
    reach = KisReachability(redis_client, KEYS.kis_outage(ENV))
    scheduler, standby = notices(redis_client, told, None), notices(redis_client, told, None)
    reach.failed("GET /quotations: KIS unreachable (ConnectionError)")
    for _ in range(3):
        scheduler.look(in_session=True)
        standby.look(in_session=True)
    reach.answered()
    scheduler.look(in_session=True)
    standby.look(in_session=True)
    assert [type(e) for e in told] == [KisOutage, KisBack]


def test_a_redis_wiped_during_the_outage_tells_it_no_second_time(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    told: list[Event] = []
    reach = KisReachability(redis_client, KEYS.kis_outage(ENV))
    reach.failed("GET /quotations: KIS unreachable (ConnectionError)")
    notices(redis_client, told, tmp_path).look(in_session=True)
    [outage] = told
    assert isinstance(outage, KisOutage)

    redis_client.delete(KEYS.kis_outage(ENV), KEYS.kis_outage_told(ENV))  # the wipe
    restarted = notices(redis_client, told, tmp_path)
    KisReachability(redis_client, KEYS.kis_outage(ENV)).failed("still unreachable")
    restarted.look(in_session=True)
    restarted.look(in_session=True)
    assert len(told) == 1, "the outage was told again"

    KisReachability(redis_client, KEYS.kis_outage(ENV)).answered()
    restarted.look(in_session=True)
    [_, back] = told
    assert isinstance(back, KisBack) and back.since_kst == outage.since_kst
    assert not (tmp_path / f"outage-told-{ENV}").exists()


def test_an_end_told_after_a_wipe_between_the_outage_and_its_end(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    """Redis wiped after the outage was told and KIS answers again: the end is still told."""
    told: list[Event] = []
    KisReachability(redis_client, KEYS.kis_outage(ENV)).failed("unreachable")
    notices(redis_client, told, tmp_path).look(in_session=True)
    redis_client.delete(KEYS.kis_outage(ENV), KEYS.kis_outage_told(ENV))
    notices(redis_client, told, tmp_path).look(in_session=True)
    assert [type(e) for e in told] == [KisOutage, KisBack]
