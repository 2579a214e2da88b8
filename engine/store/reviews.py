"""Reviews due: current records whose review date falls within a window, has passed, or that
re-evaluation or a new product version flagged for review."""

from __future__ import annotations

import datetime as dt

from engine.store.records import Records, RecordView


class Reviews(Records):
    def due(self, within_days: int, today: dt.date | None = None) -> list[tuple[RecordView, str]]:
        """Current records whose review is due within the window, overdue, or flagged."""
        today = today or dt.date.today()
        horizon = today + dt.timedelta(days=within_days)
        out = []
        for view in self.latest():
            reasons = []
            when = view.row.review_date
            if when is not None and when <= horizon:
                days = (when - today).days
                reasons.append(f"review {'overdue since' if days < 0 else 'due'} {when}"
                               + (f" ({-days} days ago)" if days < 0 else f" (in {days} days)"))
            for flag in view.review_flags:
                reasons.append(f"flagged on {flag.at[:10]}: {flag.detail.get('reason', flag.action)}")
            if reasons:
                out.append((view, "; ".join(reasons)))
        return sorted(out, key=lambda item: item[0].row.review_date or dt.date.max)
