"""RunsScreen: one experiment's runs, paged lazily from the store, as a tree of nested runs.

Every query (first page, next page, children, keys, count) is a store call in a worker;
changing the filter, sort, columns or view starts a new generation and results of older
generations are dropped. Sorting and filtering are done by the store, never on loaded rows.

After a write (rename, tags, delete, undo, restore), a refresh or the deleted toggle, the list
is read again with the cursor kept on the same run (`reload_runs`): at least as many runs as
were loaded, the expanded parents expanded again, the cursor on that run at the same line on
screen, or on its nearest neighbour when the run left the view. The old rows stay on screen
until the new ones arrive, so a key pressed meanwhile still acts on the run it shows.

While a loaded run is RUNNING, those runs are read again by id every few seconds (tui/live.py)
and their rows updated in place: status, metrics and duration change, rows keep their place
(ctrl+r reads the list again, with new runs and the new order).

Sparkline columns (`spark:<key>`) are read for the rows on screen only: once the table stops
moving for SPARKLINE_DEBOUNCE_S, one `get_metric_histories` per key for the visible runs whose
line is not cached at their latest step (tui/sparkline_cache.py); a live refresh that brings a
new step reads that run's line again.

Grouped (`b`), the table shows one row per group from `Store.group_runs` over every run the
filter matches (one GROUP BY on SQL stores), never over a loaded page; expanding a group reads
its runs a page at a time with the group's value added to the filter. Sorting then orders the
groups by the aggregate a metric column shows; a refresh, a filter or an aggregate change
reads the groups again with the cursor and the expanded groups kept.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Footer, Label

from tracktui.store.errors import FilterSyntaxError, StoreError
from tracktui.store.groups import PARENT
from tracktui.store.model import PARENT_RUN_TAG, Experiment, Keys, MetricPoint, Page, Run, RunGroup, ViewType
from tracktui.store.search import quote_value

from ..actions import RunListActions
from ..columns import SPARKLINE_CELLS, Column, column, default_column_ids, keys_to_fetch
from ..config import RunsView
from ..filter_focus import filter_binding, filter_key_enabled, focus_now
from ..live import LIVE_LABEL, RUNNING, LiveTimer
from ..prefetch import CHILDREN_ONLY, PAGE_SIZE, ROOTS_ONLY
from ..run_counts import count_limit, format_count
from ..run_groups import Grouping, group_key_choices, parent_names
from ..runs_by_id import RUNS_PER_SEARCH, fetch_runs, search_by_ids
from ..safe_text import plain
from ..sparkline_cache import SparklineCache
from ..startup_probe import data_painted
from ..widgets.column_chooser import ColumnChooser
from ..widgets.cursor_anchor import CursorAnchor
from ..widgets.filter_bar import FilterBar
from ..widgets.filter_suggester import FilterWordSuggester
from ..widgets.group_picker import NO_GROUPING, AggregatePicker, GroupPicker
from ..widgets.runs_table import GroupRow, RunRow, RunsTable
from ..widgets.sort_picker import SortPicker
from ..widgets.status_bar import StatusBar

#: Once the user has gone down through GROW_AFTER_PAGES pages, pages are this big: deep in a
#: huge experiment a page query costs about the same whatever its size (SQLite sorts every
#: matching run for each page: ~0.2 s CPU at 100k runs for 200 or 1,000 of them), so fewer,
#: larger pages reach the end sooner (bench/README.md, tui_runs.py). The first paint is unchanged.
MAX_PAGE_SIZE = 1000
GROW_AFTER_PAGES = 5
#: Child runs shown under one parent (a larger sweep: use a filter on the parent id).
MAX_CHILDREN = 1000
#: Pages of child-run ids read to learn which runs have children (the rest show on expand).
PARENT_SCAN_PAGES = 5
#: Runs read at most in one call when a reload keeps the cursor: a reload deeper than this
#: reads in calls of this size until it holds the cursor's run or as many runs as were loaded.
RELOAD_MAX = 5000
#: Quiet time after scrolling before the visible rows' sparklines are read.
SPARKLINE_DEBOUNCE_S = 0.15


class RunsScreen(RunListActions):
    AREA = "runs"
    AUTO_FOCUS = "RunsTable"
    BINDINGS = [
        # The footer fits 80 columns with q/?/esc: d, m and the rest are in ? help and ctrl+p.
        filter_binding("runs"),
        Binding("c", "choose_columns", "Columns", id="runs.columns"),
        Binding("s", "sort", "Sort", id="runs.sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False, id="runs.reverse_sort"),
        # d deletes, u restores, t edits tags, r renames, y copies, ctrl+z undoes a delete
        # (tui/actions.py); hence D for the deleted view and T for tree/flat.
        Binding("D", "toggle_deleted", "Deleted", show=False, id="runs.deleted"),
        Binding("T", "toggle_tree", "Tree/flat", show=False, id="runs.tree"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="runs.refresh"),
        # Marks and compare (tui/marks.py, screens/compare.py): Space and c already expand
        # and choose columns here, hence m / C.
        Binding("m", "toggle_mark", "Mark", show=False, id="runs.mark"),
        Binding("M", "mark_all", "Mark all loaded", show=False, id="runs.mark_all"),
        Binding("U", "clear_marks", "Clear marks", show=False, id="runs.clear_marks"),
        Binding("C", "compare", "Compare", id="runs.compare"),
        # Traces of this experiment (screens/traces.py); T is tree/flat, hence ctrl+t.
        Binding("ctrl+t", "traces", "Traces", show=False, id="runs.traces"),
        # MLflow 3 logged models of this experiment (screens/models.py).
        Binding("L", "logged_models", "Logged models", show=False, id="runs.models"),
        # Sweep charts of the filtered (or marked) runs: scatter and parallel coordinates.
        Binding("v", "sweep_charts", "Sweep charts", show=False, id="runs.sweep"),
        # Group rows (g/G are first/last in the table): b for "by", a for the aggregates.
        Binding("b", "group_by", "Group by", show=False, id="runs.group_by"),
        Binding("a", "choose_aggregates", "Aggregates", show=False, id="runs.aggregates"),
        Binding("e", "export", "Export", show=False, id="runs.export"),
    ]

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment
        self.column_ids: list[str] = []
        self.keys: Keys | None = None
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_ascending = True
        # A deleted experiment's runs are deleted with it: show them rather than nothing.
        self.lifecycle_view: ViewType = "all" if experiment.lifecycle_stage == "deleted" else "active"
        self.nested = True
        #: Set while the table shows groups (b), else None.
        self.grouping: Grouping | None = None
        self.groups: list[RunGroup] = []
        self.total: int | None = None
        #: The bound `total` was counted with (None: exact), for showing it.
        self.total_limit: int | None = None
        self._generation = 0
        self._next_token: str | None = None
        self._loading_more = False
        self._loading_first = False
        self._parents: set[str] = set()
        self._parents_complete = False
        #: Set by reload_runs until the cursor is back on its run (or the reload is over).
        self._anchor: CursorAnchor | None = None
        self._expanding: set[str] = set()
        #: A reload's runs read so far, and how many top-level runs were loaded before it.
        self._reloaded: list[Run] = []
        self._reload_want = 0
        self._live = LiveTimer(self, self._refresh_running, self._update_title)
        self.sparklines = SparklineCache(SPARKLINE_CELLS)
        self._sparkline_timer: Timer | None = None
        self._reading_slimmed = False

    def compose(self) -> ComposeResult:
        yield Label(plain(self.experiment.name), id="runs-title", classes="screen-title")
        yield FilterBar(suggester=FilterWordSuggester(), id="runs-filter")
        yield RunsTable(id="runs-table")
        yield StatusBar()
        yield Footer(compact=True, show_command_palette=False)  # ^p is listed by ? help

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def columns(self) -> list[Column]:
        return self.table.columns

    def on_mount(self) -> None:
        self.table.marked = self.app.run_marks
        self.table.sparklines = self.sparklines
        self.table.focus()
        self._restore_view()
        saved = self.app.config.columns_for(self.app.store.display_uri, self.experiment.id)
        if saved:
            self._set_columns(saved)
            self.query_runs()
        self.load_keys(then_query=not saved)

    # -- store calls -------------------------------------------------------------------------

    def load_keys(self, then_query: bool = False, then_choose: bool = False) -> None:
        """Distinct keys of the experiment: default columns and the column chooser need them."""
        store, eid = self.app.store, self.experiment.id

        def done(keys: Keys) -> None:
            self.keys = keys
            if then_query:
                self._set_columns(default_column_ids(keys))
                self.query_runs()
            if then_choose:
                self.action_choose_columns()

        if then_query:
            self.table.clear("Loading runs…")
        call = self.app.prefetch.take(("list_keys", eid)) or (lambda: store.list_keys([eid]))
        self.app.run_store_call(self, call, done, group="keys")

    def reload_runs(self) -> None:
        """Query again, keeping the cursor on the same run (or its neighbour when it left)."""
        self.query_runs(keep_cursor=True)

    def query_runs(self, keep_cursor: bool = False) -> None:
        """Start over: first page of runs for the current filter, sort, view and columns.

        `keep_cursor`: the old rows stay until the new ones arrive, at least as many are read,
        and the cursor goes back to its run (see the module docstring)."""
        if self.grouping is not None:
            self._query_groups(self.grouping, keep_cursor)
            return
        self._generation += 1
        generation = self._generation
        self._next_token = None
        self._loading_more = False
        self._loading_first = True
        self._parents, self._parents_complete = set(), False
        self._anchor = self.table.cursor_anchor() if keep_cursor else None
        self._expanding = set()
        self._reloaded, self._reload_want = [], self.table.top_level_count if self._anchor else 0
        size = min(max(PAGE_SIZE, self._reload_want), RELOAD_MAX) if self._anchor else PAGE_SIZE
        self.table.sort_column, self.table.sort_ascending = self.sort_column, self.sort_ascending
        if self._anchor is None:
            self.table.clear("Loading runs…")
        self._update_title()
        store, eid, (filter_string, order_by, view, include) = self.app.store, self.experiment.id, self._query()

        def first_page() -> Page[Run]:
            return store.search_runs([eid], filter_string, order_by, view, size, None, include)

        prefetched = self.app.prefetch.take(("search_runs", eid, filter_string, tuple(order_by), view, size, include))
        self.total = None
        self.app.run_store_call(self, prefetched or first_page, lambda page: self._page_loaded(generation, page),
                                group="runs", on_error=self._query_failed)

    def _query_groups(self, grouping: Grouping, keep_cursor: bool) -> None:
        """Read the groups of every run matching the filter; re-expand the anchored groups."""
        self._generation += 1
        generation = self._generation
        self._next_token = None
        self._loading_more = False
        self._loading_first = True
        self._anchor = self.table.cursor_anchor() if keep_cursor else None
        self._expanding = set()
        self.table.sort_column, self.table.sort_ascending = grouping.sort_column, grouping.sort_ascending
        if self._anchor is None:
            self.table.clear("Grouping runs…")
        self._update_title()
        store, eid, view, filter_string = self.app.store, self.experiment.id, self.lifecycle_view, self.filter_text
        pairs = grouping.pairs(self.columns)

        def read() -> tuple[list[RunGroup], dict[str, str]]:
            groups = store.group_runs([eid], grouping.by, pairs, filter_string, view)
            return groups, parent_names(store, eid, groups) if grouping.by == PARENT else {}

        def done(result: tuple[list[RunGroup], dict[str, str]]) -> None:
            if generation != self._generation:
                return
            groups, names = result
            self._loading_first = False
            self.groups = groups
            self.table.show_groups(grouping.sorted_groups(groups, self.columns), dict(pairs), names)
            self.table.empty_text = "No runs match." if self.filter_text else "No runs in this experiment."
            self.query_one(FilterBar).clear_error()
            if self._anchor is not None:
                for row in self.table.start_expanding(self._anchor.expanded):
                    if isinstance(row, GroupRow):
                        self._expanding.add(row.row_id)
                        self._load_group_runs(row)
                self._restore_cursor()
            self._watch_live()

        self.app.run_store_call(self, read, done, group="runs", on_error=self._query_failed)
        self._count(generation)

    def _load_group_runs(self, row: GroupRow, more: bool = False) -> None:
        """A page of the group's runs (the next one with `more`), shown under its row."""
        grouping = self.grouping
        if grouping is None:
            return
        generation, store, eid, group_id = self._generation, self.app.store, self.experiment.id, row.row_id
        filter_string = grouping.run_filter(self.filter_text, row.group.value)
        order_by, view, include = self._order_by(), self.lifecycle_view, keys_to_fetch(self.columns)
        token = row.next_token if more else None
        row.loading = True

        def page() -> Page[Run]:
            return store.search_runs([eid], filter_string, order_by, view, PAGE_SIZE, token, include)

        def done(result: Page[Run]) -> None:
            if generation != self._generation:
                return
            self.table.insert_group_runs(group_id, list(result.items), result.next_page_token)
            self._watch_live()
            if group_id in self._expanding:
                self._expanding.discard(group_id)
                self._restore_cursor()

        def failed(error: StoreError) -> bool:
            self.table.expand_failed(group_id)
            if generation == self._generation:
                self._expanding.discard(group_id)
                self._restore_cursor()
            return False

        self.app.run_store_call(self, page, done, group=f"group-{group_id}", on_error=failed)

    def on_runs_table_group_expand_requested(self, event: RunsTable.GroupExpandRequested) -> None:
        self._load_group_runs(event.row)

    def on_runs_table_group_near_end(self, event: RunsTable.GroupNearEnd) -> None:
        self._load_group_runs(event.row, more=True)

    def _page_loaded(self, generation: int, page: Page[Run]) -> None:
        if generation != self._generation:
            return
        first = self._loading_first
        if first and self._anchor is not None:
            whole = self._reload_page(generation, page)
            if whole is None:
                return
            page = whole
        self._loading_more = self._loading_first = False
        self._next_token = page.next_page_token
        if first and self._anchor is not None:
            self.table.clear()  # the old rows stayed on screen until now
        self.table.append_runs(list(page.items), self._parents if self._parents_complete else None)
        if not self._parents_complete and self._parents:
            self.table.mark_parents(self._parents, complete=False)
        if first:
            self.table.empty_text = "No runs match." if self.filter_text else "No runs in this experiment."
            data_painted(self.app)
            # Only now: on a big experiment each is a scan of `runs` that would compete with
            # the first page for the database's (and a small machine's) cores.
            if self.nested and not self.filter_text:
                self._scan_parents(generation)
            self._count(generation)
            self.query_one(FilterBar).clear_error()
            if self._anchor is not None:
                for row in self.table.start_expanding(self._anchor.expanded):
                    if isinstance(row, RunRow):
                        self._expanding.add(row.id)
                        self._load_children(row.id)
                self._restore_cursor()
        self._watch_live()

    def _reload_page(self, generation: int, page: Page[Run]) -> Page[Run] | None:
        """A reload's runs so far as one page once it holds the cursor's run or as many runs as
        were loaded (or the list ended); else None, and the next RELOAD_MAX runs are asked for.
        The old rows stay on screen meanwhile: a key pressed still acts on the run it shows."""
        self._reloaded.extend(page.items)
        anchor_id = self._anchor.item_id if self._anchor is not None else None
        found = any(run.id == anchor_id for run in page.items)
        if found or len(self._reloaded) >= self._reload_want or not page.next_page_token:
            whole, self._reloaded = Page(tuple(self._reloaded), page.next_page_token), []
            return whole
        store, eid, (filter_string, order_by, view, include) = self.app.store, self.experiment.id, self._query()
        token = page.next_page_token

        def next_chunk() -> Page[Run]:
            return store.search_runs([eid], filter_string, order_by, view, RELOAD_MAX, token, include)

        self.app.run_store_call(self, next_chunk, lambda more: self._page_loaded(generation, more),
                                group="runs", on_error=self._query_failed)
        return None

    def _restore_cursor(self) -> None:
        """Back on the anchored run; done once it is found or no expansion is still coming."""
        anchor = self._anchor
        if anchor is not None and (self.table.restore(anchor) or not self._expanding):
            self._anchor = None

    def _query_failed(self, error: StoreError) -> bool:
        self._loading_first = False
        self._anchor = None
        self.table.clear("Query failed — see the notification.")
        self._watch_live()  # nothing shown: nothing to follow
        if isinstance(error, FilterSyntaxError) and error.text == self.filter_text:
            self.query_one(FilterBar).show_error(error)
            self.table.clear("Fix the filter: the error is shown above.")
            return True
        return False

    def _load_more(self) -> None:
        if self._loading_more or not self._next_token:
            return
        self._loading_more = True
        generation, token = self._generation, self._next_token
        store, eid, (filter_string, order_by, view, include) = self.app.store, self.experiment.id, self._query()

        size = MAX_PAGE_SIZE if self.table.top_level_count >= GROW_AFTER_PAGES * PAGE_SIZE else PAGE_SIZE

        def next_page() -> Page[Run]:
            return store.search_runs([eid], filter_string, order_by, view, size, token, include)

        def failed(error: StoreError) -> bool:
            self._next_token = None  # stop asking on every keypress; ctrl+r retries
            self._loading_more = False
            self._update_title()
            return False

        self._update_title()
        self.app.run_store_call(self, next_page, lambda page: self._page_loaded(generation, page),
                                group="runs", on_error=failed)

    def _scan_parents(self, generation: int) -> None:
        """Learn which runs have children, so the tree shows ▸ only where expanding helps."""
        store, eid, view = self.app.store, self.experiment.id, self.lifecycle_view

        def scan() -> tuple[set[str], bool]:
            parents: set[str] = set()
            token = None
            for _ in range(PARENT_SCAN_PAGES):
                page = store.search_runs([eid], CHILDREN_ONLY, (), view, 1000, token, Keys(tags=(PARENT_RUN_TAG,)))
                parents.update(r.parent_run_id or r.tags.get(PARENT_RUN_TAG, "") for r in page.items)
                token = page.next_page_token
                if not token:
                    return parents, True
            return parents, False

        def done(result: tuple[set[str], bool]) -> None:
            if generation != self._generation:
                return
            self._parents, self._parents_complete = result
            self.table.mark_parents(self._parents, self._parents_complete)

        self.app.run_store_call(self, scan, done, group="parents")

    def _count(self, generation: int) -> None:
        """The experiment's run count for the title, which shows it unfiltered and ungrouped
        only (so it is not asked for otherwise); bounded where counting is costly."""
        self.total = None
        if self.filter_text or self.grouping is not None:
            self.workers.cancel_group(self, "count")
            return
        store, eid, view = self.app.store, self.experiment.id, self.lifecycle_view
        at_most = self.total_limit = count_limit(store)

        def done(total: int) -> None:
            if generation == self._generation:
                self.total = total
                self._update_title()

        self.app.run_store_call(self, lambda: store.count_runs(eid, view, at_most), done, group="count",
                                interruptible=True)

    def on_runs_table_expand_requested(self, event: RunsTable.ExpandRequested) -> None:
        self._load_children(event.row.id)

    def _load_children(self, parent_id: str) -> None:
        generation, store, eid = self._generation, self.app.store, self.experiment.id
        order_by, view, include = self._order_by(), self.lifecycle_view, keys_to_fetch(self.columns)

        def children() -> list[Run]:
            page = store.search_runs([eid], f"tags.`{PARENT_RUN_TAG}` = {quote_value(parent_id)}", order_by, view,
                                     MAX_CHILDREN, None, include)
            return list(page.items)

        def done(runs: list[Run]) -> None:
            if generation == self._generation:
                self.table.insert_children(parent_id, runs)
                self._watch_live()
                if parent_id in self._expanding:  # re-expanded by a reload: no notification
                    self._expanding.discard(parent_id)
                    self._restore_cursor()
                elif not runs:
                    self.notify("This run has no child runs.", timeout=2)

        def failed(error: StoreError) -> bool:
            self.table.expand_failed(parent_id)
            if generation == self._generation:
                self._expanding.discard(parent_id)
                self._restore_cursor()
            return False

        self.app.run_store_call(self, children, done, group=f"children-{parent_id}", on_error=failed)

    def _watch_live(self) -> None:
        """Refresh by itself while a run near the screen is running (slimmed rows are read
        again when they come back into view); the title says so."""
        self._live.set(any(row.status == RUNNING for row in self.table.whole_rows))
        self._update_title()

    def _refresh_running(self) -> None:
        """Read the running rows' runs again (by id) and update those rows in place."""
        if self.app.screen is not self:  # covered by another screen: caught up on resume
            return
        run_ids = [row.id for row in self.table.whole_rows if row.status == RUNNING]
        if not run_ids:
            self._watch_live()
            return
        generation, store, eid, include = self._generation, self.app.store, self.experiment.id, keys_to_fetch(self.columns)

        def done(runs: list[Run]) -> None:
            if generation == self._generation:
                self.table.update_runs(runs)
                self._watch_live()
                self.read_sparklines()  # a new latest step: that run's line is read again

        self.app.run_store_call(self, lambda: fetch_runs(store, run_ids, [eid], include), done, group="live",
                                on_error=self._live.stop_on_error)

    def on_runs_table_slimmed(self, event: RunsTable.Slimmed) -> None:
        self._watch_live()  # running runs far away are read again when they come back

    def on_runs_table_viewport_moved(self, event: RunsTable.ViewportMoved) -> None:
        self._read_slimmed_rows()
        self._sparklines_soon()

    def _sparklines_soon(self) -> None:
        if not any(c.kind == "spark" for c in self.columns):
            return
        if self._sparkline_timer is not None:
            self._sparkline_timer.stop()
        self._sparkline_timer = self.set_timer(SPARKLINE_DEBOUNCE_S, self.read_sparklines)

    def _read_slimmed_rows(self) -> None:
        """Read again (one search by id, in a worker) the slimmed rows coming into view; one
        read at a time, the next one asked for when it is done (the view may have moved on)."""
        if self._reading_slimmed:
            return
        rows = self.table.slimmed_rows_near_view(RUNS_PER_SEARCH)
        if not rows:
            return
        self._reading_slimmed = True
        generation, store, eid, include = self._generation, self.app.store, self.experiment.id, keys_to_fetch(self.columns)
        run_ids = [row.id for row in rows]

        def done(found: dict[str, Run]) -> None:
            self._reading_slimmed = False
            if generation != self._generation:
                return
            self.table.fill_rows(rows, found)
            self._watch_live()
            self._sparklines_soon()
            self._read_slimmed_rows()

        def failed(error: StoreError) -> bool:
            self._reading_slimmed = False  # read again when the view next moves
            return False

        self.app.run_store_call(self, lambda: search_by_ids(store, run_ids, [eid], include), done,
                                group="slimmed", on_error=failed)

    def read_sparklines(self) -> None:
        """Read the sparklines the rows on screen show and the cache lacks (one store call
        per key, for those runs only)."""
        self._sparkline_timer = None
        keys = [c.key for c in self.table.visible_columns() if c.kind == "spark"]
        runs = [row.run for row in self.table.visible_rows() if row.run is not None]  # slimmed: read later
        wanted = self.sparklines.missing(runs, keys)
        if not wanted:
            return
        store, cache, by_id = self.app.store, self.sparklines, {run.id: run for run in runs}

        def fetch() -> dict[str, dict[str, list[MetricPoint]]]:
            return {key: store.get_metric_histories(ids, key, SPARKLINE_CELLS) for key, ids in wanted.items()}

        def done(histories: dict[str, dict[str, list[MetricPoint]]]) -> None:
            for key, by_run in histories.items():
                cache.put([by_id[run_id] for run_id in by_run], key, by_run)
            self.table.refresh()

        self.app.run_store_call(self, fetch, done, group="sparklines")

    def on_runs_table_near_end(self, event: RunsTable.NearEnd) -> None:
        self._load_more()

    def on_runs_table_chosen(self, event: RunsTable.Chosen) -> None:
        from .run import RunScreen

        self.app.push_screen(RunScreen(event.row.id))

    def on_runs_table_header_clicked(self, event: RunsTable.HeaderClicked) -> None:
        self._sort_by(event.column.id)

    def on_filter_bar_submitted(self, event: FilterBar.Submitted) -> None:
        self.filter_text = event.text
        focus_now(self.table)
        self._remember_view()
        self.query_runs(keep_cursor=self.grouping is not None)  # a group keeps its place

    def on_filter_bar_left(self, event: FilterBar.Left) -> None:
        focus_now(self.table)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            return filter_key_enabled(self)
        return super().check_action(action, parameters)

    def action_focus_filter(self) -> None:
        focus_now(self.query_one(FilterBar).input)

    def action_choose_columns(self) -> None:
        if self.keys is None:
            self.load_keys(then_choose=True)
            return
        defaults = default_column_ids(self.keys)

        def chosen(column_ids: list[str] | None) -> None:
            if not column_ids or column_ids == self.column_ids:
                return
            self._set_columns(column_ids)
            self.app.config.set_columns_for(self.app.store.display_uri, self.experiment.id, column_ids)
            problem = self.app.config.save()
            if problem:
                self.notify(problem, severity="warning")
            self.query_runs()

        self.app.push_screen(ColumnChooser(self.keys, self.column_ids, defaults), chosen)

    def action_sort(self) -> None:
        def picked(column_id: str | None) -> None:
            if column_id:
                self._sort_by(column_id)

        if self.grouping is not None:
            columns = [c for c in self.columns if c.kind == "metrics" or c.id == "attr:name"]
            picker = SortPicker(columns, self.grouping.sort_column, self.grouping.sort_ascending,
                                title="Sort groups by a metric column's aggregate, or by value (Name)")
        else:
            picker = SortPicker(self.columns, self.sort_column, self.sort_ascending)
        self.app.push_screen(picker, picked)

    def action_reverse_sort(self) -> None:
        if self.grouping is not None:
            self.grouping.sort_ascending = not self.grouping.sort_ascending
            self._remember_view()
            self.reload_runs()
            return
        if self.sort_column is None:
            self.sort_column, self.sort_ascending = "attr:start", False
        self.sort_ascending = not self.sort_ascending
        self._remember_view()
        self.query_runs()

    def action_toggle_deleted(self) -> None:
        self.lifecycle_view = "all" if self.lifecycle_view == "active" else "active"
        self.reload_runs()

    def action_toggle_tree(self) -> None:
        self.nested = not self.nested
        self.query_runs()

    def action_refresh(self) -> None:
        self.reload_runs()

    def on_screen_resume(self) -> None:
        self.table.refresh()  # marks may have changed on another experiment's screen
        if self._live.on:
            self._refresh_running()

    def action_toggle_mark(self) -> None:
        row = self.table.current
        if row is None and self.table.current_row is not None:
            self.notify("m marks runs: space shows this group's runs.", timeout=3)
        if row is not None:
            self.app.run_marks.toggle(row.stub(self.experiment.id), self.experiment.name)
            self.table.action_cursor_down()
            self._marks_changed()

    def action_mark_all(self) -> None:
        self.app.run_marks.mark_all((row.stub(self.experiment.id) for row in self.table.run_rows),
                                    self.experiment.name)
        self._marks_changed()

    def action_clear_marks(self) -> None:
        self.app.run_marks.clear()
        self._marks_changed()

    def action_traces(self) -> None:
        from .traces import TracesScreen

        self.app.push_screen(TracesScreen(self.experiment))

    def action_logged_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self.experiment))

    def action_sweep_charts(self) -> None:
        from .sweep import SweepScreen

        self.app.push_screen(SweepScreen(self.experiment, self.filter_text, self.lifecycle_view,
                                         self.app.run_marks.runs))

    def action_compare(self) -> None:
        from .compare import CompareScreen

        runs = self.app.run_marks.runs
        if len(runs) < 1:
            self.notify("Mark runs with m first (M marks every loaded run).", severity="warning")
            return
        self.app.push_screen(CompareScreen([r.id for r in runs], [r.experiment_id for r in runs]))

    def action_group_by(self) -> None:
        keys = self.keys
        if keys is None:
            self.notify("Still reading the experiment's keys; try again in a moment.", timeout=3)
            return

        def picked(by: str | None) -> None:
            current = self.grouping.by if self.grouping else NO_GROUPING
            if by is None or by == current:
                return
            aggregates = self.grouping.aggregates if self.grouping else {}
            self.grouping = Grouping(by, aggregates) if by != NO_GROUPING else None
            self._remember_view()
            self.query_runs()

        choices = group_key_choices(keys.params, keys.tags)
        self.app.push_screen(GroupPicker(choices, self.grouping.by if self.grouping else None), picked)

    def action_choose_aggregates(self) -> None:
        grouping = self.grouping
        if grouping is None:
            self.notify("Aggregates apply to groups: b groups the runs first.", severity="warning", timeout=3)
            return
        metrics = [c.key for c in self.columns if c.kind == "metrics"]
        if not metrics:
            self.notify("No metric column to aggregate: c chooses columns.", severity="warning", timeout=3)
            return

        def chosen(aggregates: dict[str, str] | None) -> None:
            if aggregates and any(grouping.aggregate_of(m) != a for m, a in aggregates.items()):
                grouping.aggregates.update(aggregates)
                self._remember_view()
                self.reload_runs()

        self.app.push_screen(AggregatePicker(metrics, grouping.aggregates), chosen)

    def action_export(self) -> None:
        """Export what the table shows: every matching run (all pages, this order, these
        columns), or the groups with the aggregates shown."""
        from ..export import tables
        from ..export.dialog import ExportDialog, Produce, default_file_stem

        columns, grouping = list(self.columns), self.grouping
        produce: Produce
        if grouping is not None:
            shown = [row.group for row in self.table.groups]
            aggregates = {c.key: grouping.aggregate_of(c.key) for c in columns if c.kind == "metrics"}
            title = f"Export the {len(shown):,} groups by {grouping.label}, with the aggregates shown"
            stem = default_file_stem("groups", self.experiment.name)

            def produce(progress: Callable[[int], None]) -> tables.Table:
                return tables.groups_table(grouping.by, columns, aggregates, shown)
        else:
            store, eid, filter_string = self.app.store, self.experiment.id, self.filter_text
            _, order_by, view, include = self._query()
            title = "Export every run matching the filter, in this order, with these columns"
            if not filter_string and self.nested:
                title += " (child runs included)"
            stem = default_file_stem("runs", self.experiment.name)

            def produce(progress: Callable[[int], None]) -> tables.Table:
                return tables.runs_table(columns, tables.every_run(store, eid, filter_string, order_by, view,
                                                                   include, progress))

        self.app.push_screen(ExportDialog(title, stem, produce, unit="runs"))

    def _marks_changed(self) -> None:
        self.table.refresh()
        self._update_title()

    # -- helpers -----------------------------------------------------------------------------

    def _sort_by(self, column_id: str) -> None:
        col = column(column_id)
        if self.grouping is not None:
            self._sort_groups_by(self.grouping, column_id)
            return
        if col.order_by is None:
            self.notify(f"The store cannot sort by {col.label.lower() or 'this column'}.", severity="warning")
            return
        if column_id == self.sort_column:
            self.sort_ascending = not self.sort_ascending
        else:
            # Names read A→Z; times and metrics read newest/largest first.
            self.sort_column = column_id
            self.sort_ascending = col.kind == "attr" and col.key in ("name", "user", "status")
        self._remember_view()
        self.query_runs()

    def _sort_groups_by(self, grouping: Grouping, column_id: str) -> None:
        """Groups sort by the aggregate a metric column shows, or by value (the Name column)."""
        col = column(column_id)
        if col.kind != "metrics" and col.id != "attr:name":
            self.notify("Groups sort by a metric column's aggregate, or by value (Name).",
                        severity="warning", timeout=3)
            return
        if column_id == grouping.sort_column:
            grouping.sort_ascending = not grouping.sort_ascending
        else:
            grouping.sort_column, grouping.sort_ascending = column_id, col.kind != "metrics"
        self._remember_view()
        self.reload_runs()

    def _restore_view(self) -> None:
        """The filter, sort and grouping this experiment's list had when the user last left it."""
        view = self.app.config.runs_view_for(self.app.store.display_uri, self.experiment.id)
        self.grouping = Grouping.saved(view.grouping) if view.grouping is not None else None
        self.filter_text = view.filter
        self.query_one(FilterBar).input.value = view.filter
        try:
            sortable = view.sort_column is not None and column(view.sort_column).order_by is not None
        except ValueError:  # saved by an older version
            sortable = False
        if sortable:
            self.sort_column, self.sort_ascending = view.sort_column, view.sort_ascending

    def _remember_view(self) -> None:
        grouping = self.grouping.to_view() if self.grouping is not None else None
        view = RunsView(self.filter_text, self.sort_column, self.sort_ascending, grouping)
        self.app.config.set_runs_view_for(self.app.store.display_uri, self.experiment.id, view)
        problem = self.app.config.save()
        if problem:
            self.notify(problem, severity="warning")

    def _set_columns(self, column_ids: list[str]) -> None:
        cols = []
        for cid in column_ids:
            try:
                cols.append(column(cid))
            except ValueError:
                continue  # a saved id from an older version: skip it
        self.column_ids = [c.id for c in cols]
        self.table.set_columns(cols)

    def _query(self) -> tuple[str, list[str], ViewType, Keys]:
        """(filter, order_by, view, include_keys) of the current query, for a worker to use."""
        return self._filter_string(), self._order_by(), self.lifecycle_view, keys_to_fetch(self.columns)

    def _filter_string(self) -> str:
        if self.filter_text:
            return self.filter_text
        return ROOTS_ONLY if self.nested else ""

    def _order_by(self) -> list[str]:
        if self.sort_column is None:
            return []
        col = column(self.sort_column)
        return [f"{col.order_by} {'ASC' if self.sort_ascending else 'DESC'}"]

    def _update_title(self) -> None:
        loaded = self.table.top_level_count
        parts = [self.experiment.name]
        if self._loading_first:
            parts.append("loading…")
            self.query_one("#runs-title", Label).update(plain(" · ".join(parts)))
            return
        if self.grouping is not None:
            runs = sum(group.run_count for group in self.groups)
            parts.append(f"{len(self.groups):,} {'group' if len(self.groups) == 1 else 'groups'} "
                         f"by {self.grouping.label} · {runs:,} {_runs(runs)}")
        elif self.total is not None and not self.filter_text and not self.nested:
            parts.append(f"{loaded:,} of {self._total_text(loaded)} {_runs(self.total)}")
        elif self.total is not None and not self.filter_text:
            parts.append(f"{loaded:,} top-level {_runs(loaded)} loaded · {self._total_text(loaded)} in all")
        else:
            parts.append(f"{loaded:,} {_runs(loaded)} loaded")
        if self._next_token:
            parts.append("more below" if not self._loading_more else "loading more…")
        if self.lifecycle_view == "all":
            parts.append("incl. deleted")
        if self.grouping is None and (self.filter_text or not self.nested):
            parts.append("flat")
        if self.app.run_marks:
            parts.append(f"{len(self.app.run_marks)} marked")
        if self._live.on:
            parts.append(LIVE_LABEL)
        self.query_one("#runs-title", Label).update(plain(" · ".join(parts)))

    def _total_text(self, loaded: int) -> str:
        """The run count as known: exact, or past its bound "10,000+", or, once more runs than
        the bound are loaded, "10,200+" (never "10,200 of 10,000+")."""
        total, limit = self.total or 0, self.total_limit
        if limit is None or total <= limit:
            return format_count(total, limit)
        return f"{max(limit, loaded):,}+"


def _runs(count: int) -> str:
    return "run" if count == 1 else "runs"
