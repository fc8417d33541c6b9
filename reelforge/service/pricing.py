"""What a job costs and whether this server takes it, from its kind's workload estimate.

:func:`price` is the only pricing formula: ``POST /api/pricing`` (a request), ``GET
/api/pricing`` (a length) and admission all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelforge.errors import SpecError
from reelforge.kinds import Workload
from reelforge.service.settings import ServiceSettings


@dataclass(frozen=True)
class Price:
    seconds: float  # of output
    compute_s: float
    rate: float  # per compute second
    cost: float
    currency: str


def price(workload: Workload, preview: bool, queue: str, settings: ServiceSettings) -> Price:
    """Compute seconds (a fixed start-up plus a share per second of output, scaled by the
    frame size) and their cost on ``queue``'s hardware, from the configured rates."""
    per_second = (
        settings.compute_per_output_second_preview
        if preview
        else settings.compute_per_output_second
    )
    compute = settings.compute_overhead_s + workload.seconds * per_second * workload.pixels
    rate = settings.price_gpu_second if queue == "gpu" else settings.price_cpu_second
    return Price(workload.seconds, compute, rate, compute * rate, settings.currency)


def rates(settings: ServiceSettings) -> dict[str, float]:
    """The configured rates, as the pricing answers show them."""
    return {
        "cpu_second": settings.price_cpu_second,
        "gpu_second": settings.price_gpu_second,
        "compute_per_output_second": settings.compute_per_output_second,
        "compute_per_output_second_preview": settings.compute_per_output_second_preview,
        "overhead_s": settings.compute_overhead_s,
    }


def admit(kind: str, workload: Workload, settings: ServiceSettings) -> None:
    """Refuse what this server will not make: too many parts (scenes), or an output longer
    than the kind's limit (:meth:`ServiceSettings.max_seconds_for`)."""
    if workload.parts > settings.max_scenes:
        raise SpecError(
            f"the {kind} has {workload.parts} scenes; this server renders at most "
            f"{settings.max_scenes}",
            hint="split it into several videos, or set max_scenes to merge scenes",
        )
    limit = settings.max_seconds_for(kind)
    if workload.seconds > limit:
        raise SpecError(
            f"the {kind} would last about {workload.seconds:.0f} s; this server renders at most "
            f"{limit:.0f} s",
            hint="shorten the script (its narration counts, whatever target_duration says) "
            "or split it into several videos",
        )


def breakdown(
    workload: Workload, preview: bool, queue: str, settings: ServiceSettings
) -> dict[str, Any]:
    """The answer of ``POST /api/pricing``: seconds, compute, cost and the rates."""
    priced = price(workload, preview, queue, settings)
    return {
        "duration_s": round(priced.seconds, 1),
        "compute_s": round(priced.compute_s, 1),
        "queue": queue,
        "preview": preview,
        "scenes": workload.parts,
        "cost": round(priced.cost, 6),
        "currency": priced.currency,
        "rates": rates(settings),
    }
