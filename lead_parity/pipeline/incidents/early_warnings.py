"""Early warnings: signs of a leak before any SLO breaks, as evaluation rows of their own rules.

- `drop_anomaly`: a (day, hop, conversion type, origin) slice drops more than the same weekday
  of the previous `telemetry.anomaly_baseline_weeks` weeks, by the conditional exact binomial
  test (stats.py) on the day and on the week ending that day, Benjamini-Hochberg across the
  day's tests at `telemetry.anomaly_fdr`. Days
  inside a past incident episode of the hop (parity, its burn, or an earlier anomaly of the
  slice) are left out of the baseline, so a leak never teaches the baseline it is normal.
- `dead_letter_rising`: a hop's dead-lettered conversions per delivery attempt on one day
  against its previous 14 days, same test, BH across the day's hops.
- `new_root_cause`: a root cause dropping conversions at a hop for the first time, once the
  hop has `NEW_CAUSE_HISTORY_DAYS` days of history (on a first run everything is "new").

Every row is a warning; the incident rules (rules.py) keep only final days and turn each breach
into an incident through the same store, sinks and digest as the SLO rules. Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lead_parity.contract import Contract
from lead_parity.pipeline.incidents.rules import EvaluationRow
from lead_parity.pipeline.incidents.stats import benjamini_hochberg, rate_increase_p_value

ANOMALY_RULE = "drop_anomaly"
DEAD_LETTER_RULE = "dead_letter_rising"
NEW_CAUSE_RULE = "new_root_cause"
EARLY_WARNING_RULES = (ANOMALY_RULE, DEAD_LETTER_RULE, NEW_CAUSE_RULE)
# Episodes of these rules mark days that must not count as normal in a hop's baseline.
BASELINE_EXCLUDING_RULES = ("parity", "parity_burn", ANOMALY_RULE)
DEAD_LETTER_BASELINE_DAYS = 14
DEAD_LETTER_MIN = 3  # fewer dead letters in a day is not a trend, whatever the p-value
NEW_CAUSE_HISTORY_DAYS = 7
# Older days are history: judged once, never re-derived on every run.
HORIZON_DAYS = 120
# Days ending on the tested day: a sudden leak, and a slow one.
ANOMALY_WINDOWS = (1, 7)


@dataclass(frozen=True)
class SliceDay:
    conversion_date: date
    hop: str
    conversion_type: str
    origin: str
    expected: int
    dropped: int


@dataclass(frozen=True)
class Episode:
    """A past incident's days on a hop; conversion_type/origin None means the whole hop."""

    hop: str
    first: date
    last: date
    conversion_type: str | None = None
    origin: str | None = None

    def covers(self, day: date, hop: str, conversion_type: str, origin: str) -> bool:
        return (
            self.hop == hop
            and self.first <= day <= self.last
            and self.conversion_type in (None, conversion_type)
            and self.origin in (None, origin)
        )


def _as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def episodes_from_incidents(incidents: Iterable[dict]) -> list[Episode]:
    """Past incident episodes (ops.incidents rows) that keep their days out of baselines."""
    episodes = []
    for inc in incidents:
        first, last = _as_date(inc.get("first_breach_date")), _as_date(inc.get("last_breach_date"))
        if inc.get("rule") not in BASELINE_EXCLUDING_RULES or not inc.get("hop") or first is None:
            continue
        ctype, origin = _slice_part(inc, "conversion_type"), _slice_part(inc, "origin")
        episodes.append(Episode(str(inc["hop"]), first, last or first, ctype, origin))
    return episodes


def _slice_part(incident: dict, name: str) -> str | None:
    value = incident.get(name)
    return None if value in (None, "", "all") else str(value)


@dataclass(frozen=True)
class _Test:
    today: SliceDay
    window_days: int
    x: int  # dropped in the window
    n: int  # expected in the window
    y: int  # dropped on the baseline days
    m: int  # expected on the baseline days
    baseline_days: int
    p_value: float


def _window_test(
    by_key: dict[tuple, SliceDay],
    today: SliceDay,
    window_days: int,
    weeks: int,
    episodes: list[Episode],
) -> _Test | None:
    """Drops of the `window_days` days ending today against the same weekdays of past weeks."""
    hop, ctype, origin = today.hop, today.conversion_type, today.origin
    x = n = y = m = baseline_days = present = 0
    for back in range(window_days):
        day = today.conversion_date - timedelta(days=back)
        row = by_key.get((day, hop, ctype, origin))
        if row is None or row.expected <= 0:
            continue
        present += 1
        x, n = x + row.dropped, n + row.expected
        for week in range(1, weeks + 1):
            past = day - timedelta(days=7 * week)
            old = by_key.get((past, hop, ctype, origin))
            if old is None or old.expected <= 0:
                continue
            if any(e.covers(past, hop, ctype, origin) for e in episodes):
                continue
            y, m, baseline_days = y + old.dropped, m + old.expected, baseline_days + 1
    # A slice needs weekday history for most of its window to be anomalous against it.
    if present == 0 or baseline_days < 2 * present or m <= 0:
        return None
    p_value = rate_increase_p_value(x, n, y, m)
    return _Test(today, window_days, x, n, y, m, baseline_days, p_value)


def drop_anomalies(
    slices: Iterable[SliceDay],
    contract: Contract,
    evaluated_at: datetime,
    episodes: Iterable[Episode] = (),
) -> list[EvaluationRow]:
    """One row per slice-day with a usable baseline; breached where BH rejects either window.

    Each slice-day is tested twice, on the day alone (a sudden leak) and on the week ending
    that day (a slow one: 0.4% of a few hundred conversions a day is one drop, seven days of it
    are not noise); both tests of every slice join the day's Benjamini-Hochberg family.
    """
    weeks = contract.telemetry.anomaly_baseline_weeks
    fdr = contract.telemetry.anomaly_fdr
    episodes = list(episodes)
    by_key = {(s.conversion_date, s.hop, s.conversion_type, s.origin): s for s in slices}
    latest = max((k[0] for k in by_key), default=None)
    tests: dict[date, list[tuple[SliceDay, list[_Test]]]] = defaultdict(list)
    for (day, _, _, _), today in sorted(by_key.items()):
        if latest is not None and (latest - day).days > HORIZON_DAYS or today.expected <= 0:
            continue
        found = [
            t
            for t in (_window_test(by_key, today, w, weeks, episodes) for w in ANOMALY_WINDOWS)
            if t is not None
        ]
        if found:
            tests[day].append((today, found))
    rows = []
    for day, day_tests in sorted(tests.items()):
        flat = [t for _, found in day_tests for t in found]
        verdicts = benjamini_hochberg([t.p_value for t in flat], fdr)
        rejected = dict(zip(map(id, flat), verdicts, strict=True))
        for today, found in day_tests:
            hits = [t for t in found if rejected[id(t)]]
            worst = min(hits or found, key=lambda t: t.p_value)
            rows.append(
                EvaluationRow(
                    evaluated_at=evaluated_at,
                    rule=ANOMALY_RULE,
                    scope="|".join(
                        [day.isoformat(), today.hop, today.conversion_type, today.origin]
                    ),
                    passed=not hits,
                    severity="warning" if hits else "ok",
                    conversion_date=day,
                    conversion_type=today.conversion_type,
                    origin=today.origin,
                    hop=today.hop,
                    observed=100.0 * worst.x / worst.n,
                    threshold=100.0 * worst.y / worst.m,
                    expected=worst.n,
                    dropped=worst.x,
                    details={
                        "window_days": worst.window_days,
                        "p_value": worst.p_value,
                        "fdr": fdr,
                        "tests_that_day": len(flat),
                        "baseline_days": worst.baseline_days,
                        "baseline_expected": worst.m,
                        "baseline_dropped": worst.y,
                        "day_expected": today.expected,
                        "day_dropped": today.dropped,
                    },
                )
            )
    return rows


@dataclass(frozen=True)
class DeadLetterDay:
    attempt_date: date
    hop: str
    attempts: int
    dead_lettered: int


def dead_letter_rises(
    days: Iterable[DeadLetterDay], contract: Contract, evaluated_at: datetime
) -> list[EvaluationRow]:
    """One row per (day, hop) with a 14-day history; breached when the rate rose for real."""
    by_key = {(d.attempt_date, d.hop): d for d in days}
    latest = max((k[0] for k in by_key), default=None)
    tests: dict[date, list[tuple[DeadLetterDay, float, int, int]]] = defaultdict(list)
    for (day, hop), today in by_key.items():
        if latest is not None and (latest - day).days > HORIZON_DAYS or today.attempts <= 0:
            continue
        history = [
            by_key[(day - timedelta(days=back), hop)]
            for back in range(1, DEAD_LETTER_BASELINE_DAYS + 1)
            if (day - timedelta(days=back), hop) in by_key
        ]
        base_attempts = sum(h.attempts for h in history)
        base_dead = sum(h.dead_lettered for h in history)
        if len(history) < NEW_CAUSE_HISTORY_DAYS or base_attempts <= 0:
            continue
        p_value = rate_increase_p_value(
            today.dead_lettered, today.attempts, base_dead, base_attempts
        )
        tests[day].append((today, p_value, base_attempts, base_dead))
    rows = []
    for day, day_tests in sorted(tests.items()):
        rejected = benjamini_hochberg([t[1] for t in day_tests], contract.telemetry.anomaly_fdr)
        for (today, p_value, base_attempts, base_dead), hit in zip(
            day_tests, rejected, strict=True
        ):
            hit = hit and today.dead_lettered >= DEAD_LETTER_MIN
            rows.append(
                EvaluationRow(
                    evaluated_at=evaluated_at,
                    rule=DEAD_LETTER_RULE,
                    scope=f"{day.isoformat()}|{today.hop}",
                    passed=not hit,
                    severity="warning" if hit else "ok",
                    conversion_date=day,
                    hop=today.hop,
                    observed=100.0 * today.dead_lettered / today.attempts,
                    threshold=100.0 * base_dead / base_attempts,
                    expected=today.attempts,
                    dropped=today.dead_lettered,
                    details={
                        "p_value": p_value,
                        "baseline_days": DEAD_LETTER_BASELINE_DAYS,
                        "baseline_attempts": base_attempts,
                        "baseline_dead_lettered": base_dead,
                    },
                )
            )
    return rows


def new_root_causes(
    drops: Iterable[tuple[date, str, str, int]],
    hop_days: Iterable[tuple[date, str]],
    evaluated_at: datetime,
) -> list[EvaluationRow]:
    """(day, hop, root_cause, dropped) counts and the days each hop saw conversions: a cause's
    first day on a hop breaches (given enough history before it); its later days pass."""
    first_day: dict[str, date] = {}
    for day, hop in hop_days:
        first_day[hop] = min(day, first_day.get(hop, day))
    seen: set[tuple[str, str]] = set()
    rows = []
    for day, hop, cause, dropped in sorted(drops):
        new = (hop, cause) not in seen
        seen.add((hop, cause))
        history = (day - first_day.get(hop, day)).days
        if new and history < NEW_CAUSE_HISTORY_DAYS:
            continue  # no history yet: every cause would look new
        rows.append(
            EvaluationRow(
                evaluated_at=evaluated_at,
                rule=NEW_CAUSE_RULE,
                scope=f"{day.isoformat()}|{hop}|{cause}",
                passed=not new,
                severity="warning" if new else "ok",
                conversion_date=day,
                hop=hop,
                observed=float(dropped),
                dropped=dropped,
                details={"root_cause": cause, "history_days": history},
            )
        )
    return rows
