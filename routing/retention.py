"""Keep the call log in bounds: delete calls, attempts and requests by age.

Batches of short transactions, so that a purge never holds locks that live
requests wait on; old calls are never touched by routing (their agents were
freed long ago), so deleting them is safe while serving.
"""

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction

from routing.models import Attempt, Call, WebhookRequest


@dataclass
class PurgeCounts:
    calls: int = 0
    attempts: int = 0
    requests: int = 0

    def __str__(self):
        return (
            f"{self.calls} calls, {self.attempts} attempts, "
            f"{self.requests} webhook requests"
        )


def purge_calls(
    *, before: dt.datetime, batch_size: int = 1000, dry_run: bool = False
) -> PurgeCounts:
    """Delete the calls first seen before `before` with their attempts and
    requests, and the requests of no call received before it.

    With `dry_run`, the same deletes run in one transaction that is rolled back.
    """
    counts = PurgeCounts()
    with transaction.atomic() if dry_run else nullcontext():
        while _purge_call_batch(before=before, batch_size=batch_size, counts=counts):
            pass
        while _purge_request_batch(before=before, batch_size=batch_size, counts=counts):
            pass
        if dry_run:
            transaction.set_rollback(True)
    return counts


def _purge_call_batch(
    *, before: dt.datetime, batch_size: int, counts: PurgeCounts
) -> bool:
    with transaction.atomic():
        ids = list(
            Call.objects.filter(first_seen_at__lt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return False
        counts.attempts += Attempt.objects.filter(call_id__in=ids).delete()[0]
        counts.requests += WebhookRequest.objects.filter(call_id__in=ids).delete()[0]
        counts.calls += (
            Call.objects.filter(pk__in=ids).delete()[1].get(Call._meta.label, 0)
        )
    return True


def _purge_request_batch(
    *, before: dt.datetime, batch_size: int, counts: PurgeCounts
) -> bool:
    with transaction.atomic():
        ids = list(
            WebhookRequest.objects.filter(call__isnull=True, received_at__lt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return False
        counts.requests += WebhookRequest.objects.filter(pk__in=ids).delete()[0]
    return True
