"""When things happen: the run's time frame, daily and hourly rhythm, the booth events."""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from .contract_defaults import DAY, HOUR, MINUTE
from .timefmt import date_ms

# Share of conversions per UTC hour: EU mornings and US afternoons, quiet nights.
HOUR_WEIGHTS = (
    0.15,
    0.1,
    0.08,
    0.08,
    0.1,
    0.15,
    0.3,
    0.6,
    0.9,
    1.1,
    1.2,
    1.2,
    1.1,
    1.25,
    1.35,
    1.4,
    1.3,
    1.1,
    0.9,
    0.7,
    0.5,
    0.4,
    0.3,
    0.2,
)
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.05, 1.0, 0.85, 0.4, 0.3)  # Monday .. Sunday
BOOTH_PEOPLE = 4  # people per shared booth laptop (>= the shared-device threshold of 3)


@dataclass(frozen=True)
class Calendar:
    start: date
    days: int
    seed: int
    leads: int
    booth_rate: float

    @cached_property
    def start_ms(self) -> int:
        return date_ms(self.start)

    @cached_property
    def end_ms(self) -> int:
        return self.start_ms + self.days * DAY

    @cached_property
    def as_of_ms(self) -> int:
        """Midnight after the last day plus two hours: the last day's drops are still pending."""
        return self.end_ms + 2 * HOUR

    def day_date(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def conversion_time(self, rng: random.Random) -> int:
        day = bisect.bisect_right(self._day_cum, rng.random() * self._day_cum[-1])
        hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
        return self.start_ms + day * DAY + hour * HOUR + rng.randrange(HOUR)

    @cached_property
    def _day_cum(self) -> list[float]:
        # Slow growth over the period (campaigns ramping up) on top of the weekly rhythm.
        weights = [
            WEEKDAY_WEIGHTS[self.day_date(i).weekday()] * (1 + 0.3 * i / max(1, self.days))
            for i in range(self.days)
        ]
        return list(itertools.accumulate(weights))

    def incident(self, ts: int) -> bool:
        """A CRM outage two thirds into the period, 13:00-17:00 UTC (needs >= 3 days)."""
        if self.days < 3:
            return False
        day_start = self.start_ms + (self.days * 2 // 3) * DAY
        return day_start + 13 * HOUR <= ts < day_start + 17 * HOUR

    @cached_property
    def booth_block(self) -> int | None:
        if self.booth_rate <= 0:
            return None
        return max(BOOTH_PEOPLE, round(BOOTH_PEOPLE / self.booth_rate))

    def booth_slot(self, idx: int) -> tuple[int, int] | None:
        """(booth laptop number, slot) when person idx used a shared booth laptop."""
        block = self.booth_block
        if block is None:
            return None
        number, slot = divmod(idx, block)
        # Only complete groups: a laptop with fewer than three e-mails is not a shared device.
        if slot >= BOOTH_PEOPLE or number * block + BOOTH_PEOPLE > self.leads:
            return None
        return number, slot

    def booth_time(self, number: int) -> int:
        rng = random.Random(f"{self.seed}:booth:{number}")
        day = rng.randrange(self.days)
        return self.start_ms + day * DAY + rng.randrange(9, 15) * HOUR + rng.randrange(30) * MINUTE


_HOUR_CUM = list(itertools.accumulate(HOUR_WEIGHTS))
