"""RQ jobs the API tests run in an in-process worker."""

from __future__ import annotations


class OrderRejected(Exception):
    """Stands in for a broker's final rejection."""


def reject_order(order_id: str) -> None:
    raise OrderRejected(f"주문가능금액을 초과했습니다 (APBK0952) for {order_id}")


def succeed(payload: object) -> object:
    return payload
