"""Once-a-session marks in Redis and on the data volume (docs/ARCHITECTURE.md, 'Once a
session')."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import redis

from shared.infra.redis_keys import Keys
from shared.state.once import OnceMarks

KEYS = Keys()
DAY = date(2026, 3, 3)


def wipe(client: redis.Redis) -> None:
    for key in client.scan_iter(match="kat:once:*"):
        client.delete(key)


def test_the_first_caller_marks_and_a_wiped_redis_does_not_unmark(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    marks = OnceMarks(redis_client, KEYS, tmp_path / "once")
    assert not marks.done("postmarket", DAY)
    assert marks.first("postmarket", DAY)
    assert not marks.first("postmarket", DAY)
    assert marks.first("postmarket", date(2026, 3, 4)), "another session is another mark"

    wipe(redis_client)
    assert marks.done("postmarket", DAY), "the file on the volume remembers"
    assert not marks.first("postmarket", DAY)
    assert (tmp_path / "once" / "2026-03-03" / "postmarket").is_file()


def test_many_callers_at_once_make_one_winner(redis_client: redis.Redis, tmp_path: Path) -> None:
    marks = [OnceMarks(redis.Redis(connection_pool=redis_client.connection_pool), KEYS, tmp_path)]
    marks *= 8
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda m: m.first("closed", DAY), marks))
    assert won.count(True) == 1


def test_without_a_volume_redis_alone_marks(redis_client: redis.Redis) -> None:
    marks = OnceMarks(redis_client, KEYS, None)
    assert marks.first("closed", DAY) and not marks.first("closed", DAY)
    wipe(redis_client)
    assert not marks.done("closed", DAY)
    assert marks.first("closed", DAY)


def test_a_volume_that_cannot_be_written_leaves_redis_to_decide(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    blocked = tmp_path / "once"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    marks = OnceMarks(redis_client, KEYS, blocked)
    assert marks.first("closed", DAY)
    assert not marks.first("closed", DAY)


def test_marks_older_than_the_retention_are_deleted(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    marks = OnceMarks(redis_client, KEYS, tmp_path)
    assert marks.first("postmarket", date(2026, 2, 20))
    (tmp_path / "notes").mkdir()  # not a session: left alone
    assert marks.first("postmarket", DAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-03-03", "notes"]
