"""The reply table of a link: requests that share a fixed xid are answered in order."""

from __future__ import annotations

import asyncio

from aiozkreg._transport import PendingReplies
from aiozkreg._wire_watches import (
    SetWatches,
)


async def test_two_requests_with_one_fixed_xid_get_their_own_replies_in_order() -> None:
    """Two SetWatches in flight (both xid -8) each get a reply: the first sent, the first
    answered; nothing is dropped and the table empties."""
    table = PendingReplies(asyncio.get_running_loop())
    first = table.add(-8, SetWatches(1, ("/a",), (), ()), None, None)
    second = table.add(-8, SetWatches(2, ("/b",), (), ()), None, None)
    third = table.add(-8, SetWatches(3, ("/c",), (), ()), None, None)
    assert len(table) == 3
    for value in ("one", "two", "three"):
        entry = table.take(-8)
        assert entry is not None
        entry.deliver(0, value)
    assert (first.result(), second.result(), third.result()) == ("one", "two", "three")
    assert len(table) == 0 and table.take(-8) is None


async def test_losing_the_link_fails_every_queued_request() -> None:
    """When the link goes, queued requests of one fixed xid all fail with the reason."""
    table = PendingReplies(asyncio.get_running_loop())
    futures = [table.add(-8, SetWatches(n, (), (), ()), None, None) for n in range(3)]
    table.fail_all(ConnectionError("gone"))
    for future in futures:
        assert isinstance(future.exception(), ConnectionError)
