"""Grouping the runs table: what the user chose (group key, one aggregate per metric column,
the group order) and the store filter that selects one group's runs.

The groups themselves come from `Store.group_runs` (store/groups.py defines each aggregate);
this module only turns the screen's choices into store arguments and orders the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracktui.store.base import Store
from tracktui.store.batching import chunked
from tracktui.store.errors import StoreError
from tracktui.store.groups import PARENT, parse_group_by
from tracktui.store.model import PARENT_RUN_TAG, Keys, RunGroup
from tracktui.store.search import quote_value

from .columns import Column, quote_key
from .config import GroupingView

#: The aggregates a metric column cycles through (`count` is the group's run count column).
COLUMN_AGGREGATES = ("mean", "min", "max", "last")
DEFAULT_AGGREGATE = "mean"
#: Parent run ids looked up per search when naming the groups of a parent grouping.
IDS_PER_SEARCH = 200


@dataclass(slots=True)
class Grouping:
    """The runs screen's grouping: `by` is `params.<key>`, `tags.<key>` or `parent`."""

    by: str
    #: metric key → aggregate shown in that metric's column (DEFAULT_AGGREGATE when absent).
    aggregates: dict[str, str] = field(default_factory=dict)
    #: Column the groups are ordered by (None: by group value), and the direction.
    sort_column: str | None = None
    sort_ascending: bool = True

    @classmethod
    def saved(cls, view: GroupingView) -> Grouping | None:
        """The grouping a config file kept, or None when its key no longer parses (the file
        was edited, or written by another version); unknown aggregates fall back to the default."""
        try:
            parse_group_by(view.by)
        except StoreError:
            return None
        aggregates = {metric: how for metric, how in view.aggregates if how in COLUMN_AGGREGATES}
        return cls(view.by, aggregates, view.sort_column, view.sort_ascending)

    def to_view(self) -> GroupingView:
        return GroupingView(self.by, tuple(self.aggregates.items()), self.sort_column, self.sort_ascending)

    def aggregate_of(self, metric: str) -> str:
        return self.aggregates.get(metric, DEFAULT_AGGREGATE)

    def pairs(self, columns: Sequence[Column]) -> list[tuple[str, str]]:
        """(metric key, aggregate) of each visible metric column, for `Store.group_runs`."""
        return [(c.key, self.aggregate_of(c.key)) for c in columns if c.kind == "metrics"]

    def run_filter(self, filter_text: str, value: str | None) -> str:
        """The filter selecting the runs of the group `value` among those `filter_text`
        selects (MLflow's grammar has AND only: the two are joined by it)."""
        key = parse_group_by(self.by)
        name = f"{key.kind}s.{quote_key(key.key)}"
        clause = f"{name} IS NULL" if value is None else f"{name} = {quote_value(value)}"
        return f"{filter_text} and {clause}" if filter_text.strip() else clause

    @property
    def label(self) -> str:
        """`params.lr`, `tags.team`, or `parent run`."""
        return "parent run" if self.by == PARENT else self.by

    def sorted_groups(self, groups: Sequence[RunGroup], columns: Sequence[Column]) -> list[RunGroup]:
        """`groups` in the chosen order: by the aggregate shown in `sort_column` (groups
        without a number last, either way), else by value as the store returns them."""
        col = next((c for c in columns if c.id == self.sort_column and c.kind == "metrics"), None)
        if col is None:
            return list(groups) if self.sort_ascending else list(reversed(groups))
        pair = (col.key, self.aggregate_of(col.key))

        def number(group: RunGroup) -> float | None:
            value = group.aggregates.get(pair)
            return None if value is None or math.isnan(value) else float(value)

        numbered = [(n, g) for g in groups if (n := number(g)) is not None]
        numbered.sort(key=lambda item: item[0], reverse=not self.sort_ascending)
        return [g for _, g in numbered] + [g for g in groups if number(g) is None]


def parent_names(store: Store, experiment_id: str, groups: Sequence[RunGroup]) -> dict[str, str]:
    """Run id → display name of the groups' parent runs found in the experiment (deleted ones
    too); a parent that is elsewhere or gone is left out and shows as its id. In a worker."""
    ids = [g.value for g in groups if g.value is not None]
    names: dict[str, str] = {}
    for chunk in chunked(ids, IDS_PER_SEARCH):
        quoted = ", ".join(quote_value(run_id) for run_id in chunk)
        page = store.search_runs([experiment_id], f"attributes.run_id IN ({quoted})", [], "all", len(chunk),
                                 None, Keys())
        names.update((run.id, run.display_name) for run in page.items)
    return names


def group_key_choices(params: Sequence[str], tags: Sequence[str]) -> list[tuple[str, str]]:
    """(group_by, label) for the picker: the parent run, every param, every tag but the
    parent tag itself (that is "parent run")."""
    choices = [(PARENT, "parent run")]
    choices += [(f"params.{quote_key(k)}", f"param {k}") for k in params]
    choices += [(f"tags.{quote_key(k)}", f"tag {k}") for k in tags if k != PARENT_RUN_TAG]
    return choices
