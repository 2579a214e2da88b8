"""Reviews due: current records whose review date falls within a window, has passed, or that
re-evaluation or a new product version flagged for review. An erased record is never due. The
review date is the sealed record's (records.py reads every view through column_checks.py), so a
date changed in SQL cannot hide an overdue review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.store.records import Records, RecordView
from engine.store.tombstones import is_erased


class Reviews(Records):
    def due(self, within_days: int, today: dt.date | None = None,
            views: Iterable[RecordView] | None = None) -> list[tuple[RecordView, str]]:
        """Current records whose review is due within the window, overdue, or flagged; among
        `views` (current records already read) when given, else among all."""
        today = today or dt.date.today()
        horizon = today + dt.timedelta(days=within_days)
        out = []
        for view in self.latest() if views is None else views:
            if is_erased(view.row):  # nothing left to review (retention.py)
                continue
            reasons = []
            when = view.row.review_date
            if when is not None and when <= horizon:
                days = (when - today).days
                reasons.append(f"review {'overdue since' if days < 0 else 'due'} {when}"
                               + (f" ({-days} days ago)" if days < 0 else f" (in {days} days)"))
            for flag in view.review_flags:
                reasons.append(f"flagged on {flag.at[:10]}: {flag.detail.get('reason', flag.action)}")
            if view.integrity:  # read from the sealed record; shown to governance only (people.py)
                reasons.append("integrity check failed (changed outside DTPA): run `dtpa audit verify`")
            if reasons:
                out.append((view, "; ".join(reasons)))
        return sorted(out, key=lambda item: item[0].row.review_date or dt.date.max)
