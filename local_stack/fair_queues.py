"""SQS fair queues, emulated in the local stack's moto: one tenant's backlog does not hold the others'.

On AWS a standard queue is fair once its messages carry a ``MessageGroupId`` (the tenant): when one
tenant has a disproportionate share of the messages in flight, receives return the other tenants'
messages first, until the noisy tenant's share falls again (the AWS SQS Developer Guide, "Amazon SQS
fair queues"). moto accepts and returns a ``MessageGroupId`` on a standard queue but receives in send
order, so a burst of 2,000 messages from one account would hold another account's message behind it.

``fair_order`` is the order receives take here: the visible messages of the tenant with the fewest
messages in flight first, one message per tenant in turn (round robin), each tenant's own messages in
send order. A message without a group id is a tenant of its own, as on AWS. With one tenant only the
order is the send order, as before. It is stricter than AWS (which acts only past a noisy-neighbour
threshold), which does not change what the bench measures: a quiet tenant is never held behind a burst.

``install`` makes every standard queue of this process's moto receive in that order (FIFO queues keep
their own group semantics). The order is the queue's, as on AWS: the SQS poller of the local stack
receives as Lambda's event source mapping does and needs nothing of its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from itertools import zip_longest
from typing import Any, Protocol


class QueuedMessage(Protocol):
    group_id: str | None


def tenant_of(message: QueuedMessage) -> Hashable:
    """The tenant a message belongs to: its group id, or the message itself when it has none."""
    return message.group_id if message.group_id is not None else ("no group", id(message))


def fair_order(visible: Sequence[Any], in_flight: Iterable[Any]) -> list[Any]:
    """``visible`` (in send order) reordered: tenants with fewer messages in flight first, round robin."""
    by_tenant: dict[Hashable, list[Any]] = defaultdict(list)
    for message in visible:
        by_tenant[tenant_of(message)].append(message)
    if len(by_tenant) <= 1:
        return list(visible)
    busy = Counter(tenant_of(message) for message in in_flight)
    first_seen = {tenant: position for position, tenant in enumerate(by_tenant)}
    tenants = sorted(by_tenant, key=lambda tenant: (busy[tenant], first_seen[tenant]))
    ordered: list[Any] = []
    for turn in zip_longest(*(by_tenant[tenant] for tenant in tenants)):
        ordered.extend(message for message in turn if message is not None)
    return ordered


_installed = False


def install() -> None:
    """Standard queues of moto (in this process) receive in ``fair_order``; idempotent."""
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue

    send_order = Queue.messages  # moto's property: visible, not delayed, in send order

    def messages(queue: Any) -> list[Any]:
        visible = send_order.fget(queue)
        if queue.fifo_queue or len(visible) < 2:
            return visible
        in_flight = [m for m in queue._messages if not m.visible and not m.delayed]  # noqa: SLF001
        return fair_order(visible, in_flight)

    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    _installed = True
