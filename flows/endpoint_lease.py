"""An endpoint's shared budget as a Prefect global concurrency limit, held a batch at a time.

Every build on one Prefect server that reaches the same endpoint takes its slots from one limit
(benchmint.endpoint_budget names it), so flows, threads and Dask workers together never send the
endpoint more requests than the limit's slots. The limit is created on demand with the model entry's
max_concurrency; one that exists keeps its slots (the team's setting, in the UI's Concurrency page), and
a disabled one lets the batch through at the model's own bound.

Why a batch and not a request: taking a slot is a round trip to the Prefect API (with a lease the server
renews in the background), about 0.2 s on an idle machine and over a second on a loaded one: per request
that would cost more than many endpoints' answers. The flow takes the slots a batch needs once, sends at
most that many steps at a time to its workers, and gives them back when the batch ends. A build killed
mid-batch stops renewing its lease: the server frees the slots when the lease runs out (`LEASE_S`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_client, get_run_logger
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import MissingContextError, ObjectAlreadyExists, ObjectNotFound

from benchmint.endpoint_budget import EndpointBudget

LEASE_S = 120.0  # renewed while the batch runs; how long a dead holder keeps its slots


def run_log() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def shared_slots(budget: EndpointBudget) -> tuple[int, int] | None:
    """The limit's slots on the server and how many are held now, creating it when missing; None when a team
    has disabled it."""
    with get_client(sync_client=True) as client:
        try:
            found = client.read_global_concurrency_limit_by_name(budget.name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=budget.name,
                                                                                    limit=budget.slots))
            except ObjectAlreadyExists:  # another build made it first: its slots stand
                pass
            found = client.read_global_concurrency_limit_by_name(budget.name)
    return (found.limit, found.active_slots) if found.active else None


@contextmanager
def endpoint_lease(budget: EndpointBudget, wanted: int) -> Iterator[int]:
    """Hold min(wanted, the limit's slots) slots of the endpoint's limit (waiting for them while other builds
    hold them); gives how many are held."""
    found = shared_slots(budget)
    if found is None:
        yield wanted
        return
    slots, taken = found
    held = max(1, min(wanted, slots))
    if taken + held > slots:
        run_log().info("waiting for %d of the %d slots of %s (%d held by other builds)", held, slots, budget.name,
                       taken)
    # strict: the limit was just read; if it vanished since, fail the batch rather than run it unlimited
    with concurrency(budget.name, occupy=held, lease_duration=LEASE_S, strict=True):
        yield held
