"""RunsTable: a virtual table of runs that only draws the visible lines.

Why not Textual's DataTable: it appends rows only (nested children must be inserted under
their parent) and keeps per-cell state and width bookkeeping for every loaded row, which grows
without bound while a user scrolls a 100k-run experiment (numbers in tui/README-dev.md).
This widget holds one small `RunRow` per loaded run and renders a line on demand.

Columns are as wide as their widest loaded cell and are drawn whole or not at all
(column_layout.py): `[`/`]` step through the columns after Name, which stays put.

It only displays what the screen gives it (`set_columns`, `append_runs`, `insert_children`,
the `sparklines` the screen reads); when the cursor gets near the last loaded row it posts
`NearEnd`, and the screen decides whether to fetch another page; when other rows come into
view it posts `ViewportMoved`, and the screen reads the sparklines they show.

Memory stays bounded however far the user scrolls: rows more than SLIM_DISTANCE rows from the
screen and the cursor are slimmed (their `Run` dropped; the row keeps id, name, status and its
place in the tree). A slimmed row is drawn as its name with every cell `…`; when slimmed rows
come near the screen, the screen reads their runs again by id (`slimmed_rows_near_view`) and
gives them back (`fill_rows`).

Grouped (`show_groups`), the top-level rows are `GroupRow`s: the group's value and run count in
the Name column, each metric column's aggregate (named in its header) in that column; Space or
Enter on a group posts `GroupExpandRequested` and the screen inserts the group's runs under it
(`insert_group_runs`, a page at a time: `GroupNearEnd` asks for the next).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from sys import intern
from typing import TypeGuard

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tracktui.store.model import RUN_NAME_TAG, Run, RunGroup

from ..cli.table_formats import NONE_GROUP
from ..columns import Column
from ..safe_text import inert
from ..sparkline_cache import SparklineCache
from .column_layout import MAX_COLUMN_WIDTH, Layout, Placed, lay_out
from .cursor_anchor import CursorAnchor, anchor_at, landing
from .run_format import MISSING, cut_middle, format_metric_value

#: Post NearEnd when the cursor is this close to the last loaded row.
NEAR_END_ROWS = 60
#: Rows kept whole on each side of the screen and of the cursor; rows further away are slimmed
#: (`RunRow.run` dropped) once more than 3x this many are whole. With the default columns a
#: whole row costs ~1.6 KB more than a slimmed one (bench/README.md, tui_runs.py): up to 6,000
#: whole rows are ~10 MB, while 2,000 rows is 50 screens of PageUp before a placeholder shows,
#: and more than any page the screen reads at once (PAGE_SIZE, MAX_PAGE_SIZE in screens/runs.py).
SLIM_DISTANCE = 2000
_STATUS_CLASSES = {
    "FINISHED": "runs-table--finished",
    "FAILED": "runs-table--failed",
    "RUNNING": "runs-table--running",
    "SCHEDULED": "runs-table--scheduled",
    "KILLED": "runs-table--killed",
}


#: Shown before the name of a run marked for comparison; unlike every status glyph (columns.STATUS_GLYPHS).
MARK_GLYPH = "◆ "
#: A header label longer than this is shortened (its values still set the column's width).
MAX_LABEL_WIDTH = 18
#: Every cell of a slimmed row while its run is read again (as a sparkline being read).
READING = "…"
#: Before the name of a slimmed row whose run is no longer in the store (its cells are blank).
GONE_PREFIX = "(not found) "


@dataclass(slots=True, eq=False)
class RunRow:
    """One line: a run, its depth in the tree and whether its children are shown.

    `run` is None while the row is slimmed (far from the screen, see SLIM_DISTANCE): the row
    then keeps only what the tree, the marks and a placeholder line need (id, name, status,
    lifecycle stage, parent); `has_children` is None while unknown (the screen may learn it
    later). Rows compare by identity (a set of rows is a set of lines).
    """

    run: Run | None
    id: str
    #: The run's name, else its `mlflow.runName` tag, else "" (see `display_name`).
    name: str
    status: str
    lifecycle_stage: str
    parent_run_id: str | None
    depth: int = 0
    expanded: bool = False
    has_children: bool | None = None
    loading: bool = False
    #: The group this run is listed under (grouped table), else None.
    group: GroupRow | None = None

    @classmethod
    def of(cls, run: Run, depth: int = 0, has_children: bool | None = None,
           group: GroupRow | None = None) -> RunRow:
        row = cls(run, run.id, "", "", "", None, depth, has_children=has_children, group=group)
        row.fill(run)
        return row

    def fill(self, run: Run) -> None:
        """Show `run` (a newer or whole copy of this row's run)."""
        self.run = run
        self.name = run.name or run.tags.get(RUN_NAME_TAG) or ""
        # Interned: a slimmed row keeps these, and each run read holds its own copy.
        self.status, self.lifecycle_stage = intern(run.status), intern(run.lifecycle_stage)
        self.parent_run_id = run.parent_run_id

    @property
    def display_name(self) -> str:
        """As `Run.display_name`, also while slimmed."""
        return self.name or self.id[:8]

    def stub(self, experiment_id: str) -> Run:
        """The run, or while slimmed a Run holding only what the row kept (id, name, status,
        lifecycle stage, parent; no times, params, metrics or tags): enough to mark, open,
        rename, delete or restore it, never to show its values."""
        if self.run is not None:
            return self.run
        return Run(self.id, self.name, experiment_id, self.status, None, None, None, self.lifecycle_stage, None,
                   self.parent_run_id)


@dataclass(slots=True, eq=False)
class GroupRow:
    """One group of a grouped table: its value, run count and aggregates (`RunGroup`), and
    whether its runs are shown. `next_token`: more of its runs can be loaded."""

    group: RunGroup
    depth: int = 0
    expanded: bool = False
    loading: bool = False
    next_token: str | None = None
    #: The parent run's name when grouped by parent run (the value is its id).
    name: str | None = None

    @property
    def row_id(self) -> str:
        """An id no run id can equal (the cursor anchor keys rows by id)."""
        return "group:" + ("\0" if self.group.value is None else self.group.value)

    @property
    def title(self) -> str:
        runs = self.group.run_count
        value = NONE_GROUP if self.group.value is None else self.group.value
        if self.name is not None:
            value = f"{self.name} ({value[:8]})"
        return f"{value} · {runs:,} {'run' if runs == 1 else 'runs'}"


Row = RunRow | GroupRow


def row_id(row: Row) -> str:
    return row.id if isinstance(row, RunRow) else row.row_id

class RunsTable(ScrollView, can_focus=True):
    """Runs as rows, chosen columns as cells; status colours come from the theme (app.tcss)."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="runs_table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="runs_table.down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="runs_table.page_up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="runs_table.page_down"),
        Binding("home,g", "first", "First run", show=False, id="runs_table.first"),
        Binding("end,G", "last", "Last loaded run", show=False, id="runs_table.last"),
        Binding("enter", "choose", "Open", id="runs_table.open"),
        Binding("space,right,l", "expand", "Expand", key_display="space", id="runs_table.expand"),
        Binding("left,h", "collapse", "Collapse / to parent", show=False, id="runs_table.collapse"),
        Binding("right_square_bracket", "scroll_columns(1)", "Columns →", show=False, id="runs_table.scroll_right"),
        Binding("left_square_bracket", "scroll_columns(-1)", "Columns ←", show=False, id="runs_table.scroll_left"),
    ]

    COMPONENT_CLASSES = {
        "runs-table--header",
        "runs-table--cursor",
        "runs-table--cursor-blurred",
        "runs-table--finished",
        "runs-table--failed",
        "runs-table--running",
        "runs-table--scheduled",
        "runs-table--killed",
        "runs-table--deleted",
        "runs-table--muted",
        "runs-table--sorted",
        "runs-table--sparkline",
        "runs-table--group",
    }

    DEFAULT_CSS = """
    RunsTable { height: 1fr; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        """The cursor moved to `row` (None when the table is empty)."""

        def __init__(self, row: RunRow | None) -> None:
            super().__init__()
            self.row = row

    class Chosen(Message):
        """Enter (or a click on the selected row) on a run."""

        def __init__(self, row: RunRow) -> None:
            super().__init__()
            self.row = row

    class ExpandRequested(Message):
        """The user wants this row's children shown; the screen fetches them."""

        def __init__(self, row: RunRow) -> None:
            super().__init__()
            self.row = row

    class NearEnd(Message):
        """The cursor is within NEAR_END_ROWS of the last loaded row."""

    class ViewportMoved(Message):
        """Other rows (or columns) are on screen now: sparklines (or slimmed rows) may need reading."""

    class Slimmed(Message):
        """Rows far from the screen dropped their runs (`whole_rows` is smaller)."""

    class GroupExpandRequested(Message):
        """The user wants this group's runs shown; the screen fetches the first page."""

        def __init__(self, row: GroupRow) -> None:
            super().__init__()
            self.row = row

    class GroupNearEnd(Message):
        """The cursor reached the last loaded run of a group that has more."""

        def __init__(self, row: GroupRow) -> None:
            super().__init__()
            self.row = row

    class HeaderClicked(Message):
        def __init__(self, column: Column) -> None:
            super().__init__()
            self.column = column

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        #: Grouped table: metric key → the aggregate its column shows on group rows.
        self.aggregates: dict[str, str] | None = None
        self.columns: list[Column] = []
        self.sort_column: str | None = None
        self.sort_ascending = True
        self.empty_text = "No runs."
        #: Content width of each column (widest loaded cell or label), by column id.
        self._widths: dict[str, int] = {}
        #: Index (among the columns after the pinned ones) of the first column shown.
        self._first_column = 0
        self._layout: Layout | None = None
        self._layout_width = 0
        self._styles: dict[tuple[str, ...], Style] = {}
        self._base_style = Style()
        #: Ids of runs marked for comparison (set by the screen); shown with MARK_GLYPH.
        self.marked: Container[str] = ()
        #: Sparkline lines of the `spark:` columns (read by the screen, drawn here).
        self.sparklines: SparklineCache | None = None
        #: The rows holding their run (not slimmed); rows far from view are slimmed from here.
        self._whole: set[RunRow] = set()
        self._slim_scheduled = False
        #: Ids of slimmed rows whose run a re-read did not find (purged since it was listed).
        self._gone: set[str] = set()
        #: Rows below depth 0 (children, runs in groups): top_level_count without a scan.
        self._nested = 0

    # -- what the screen calls -------------------------------------------------------------

    def set_columns(self, columns: list[Column]) -> None:
        self.columns = list(columns)
        self._first_column = 0
        self._measure(self.rows, reset=True)
        self._resize()

    def clear(self, empty_text: str = "No runs.") -> None:
        self.rows = []
        self._forget_rows()
        self.aggregates = None
        self.empty_text = empty_text
        self._measure(self.rows, reset=True)
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False)
        self._resize()

    def show_groups(self, groups: list[RunGroup], aggregates: dict[str, str],
                    names: dict[str, str] | None = None) -> None:
        """Replace the rows by one collapsed row per group; metric columns show `aggregates`;
        `names`: group value → the name shown with it (a parent run's name)."""
        self.aggregates = dict(aggregates)
        names = names or {}
        self.rows = [GroupRow(group, name=names.get(group.value or "")) for group in groups]
        self._forget_rows()
        self._measure(self.rows, reset=True)
        self.cursor_row = 0
        self._resize()

    def insert_group_runs(self, group_id: str, runs: list[Run], next_token: str | None) -> None:
        """Show `runs` under the group (after the runs already shown), if it is still loaded."""
        index = self._index_of(group_id)
        if index is None:
            return
        group = self.rows[index]
        assert isinstance(group, GroupRow)
        group.loading = False
        group.expanded = True
        group.next_token = next_token
        end = index + 1
        while end < len(self.rows) and self.rows[end].depth > group.depth:
            end += 1
        new = [RunRow.of(run, depth=group.depth + 1, group=group) for run in runs]
        self.rows[end:end] = new
        self._nested += len(new)
        self._measure(new)
        self._keep_whole(new)
        if self.cursor_row >= end:
            self.cursor_row += len(new)
        self._resize()

    @property
    def run_rows(self) -> list[RunRow]:
        """The rows that are runs (every row, unless grouped)."""
        return [row for row in self.rows if isinstance(row, RunRow)]

    @property
    def groups(self) -> list[GroupRow]:
        return [row for row in self.rows if isinstance(row, GroupRow)]

    def append_runs(self, runs: list[Run], children_of: set[str] | None = None) -> None:
        """Add top-level runs at the end; `children_of` names runs known to have children."""
        had_rows = bool(self.rows)
        self.aggregates = None
        known = children_of or set()
        new = [RunRow.of(run, has_children=(run.id in known) if children_of is not None else None) for run in runs]
        self.rows.extend(new)
        self._measure(new)
        self._keep_whole(new)
        self._resize()
        if not had_rows:
            self.cursor_row = 0

    def mark_parents(self, parent_ids: set[str], complete: bool) -> None:
        """Record which loaded runs have children (`complete`: the rest have none)."""
        for row in self.run_rows:
            if row.depth == 0 and row.id in parent_ids:
                row.has_children = True
            elif row.depth == 0 and complete and not row.expanded:
                row.has_children = False
        self.refresh()

    def insert_children(self, parent_id: str, children: list[Run]) -> None:
        """Show `children` indented under the (expanded) parent row, if it is still loaded."""
        index = self._index_of(parent_id)
        if index is None:
            return
        parent = self.rows[index]
        assert isinstance(parent, RunRow)
        parent.loading = False
        parent.has_children = bool(children)
        parent.expanded = bool(children)
        new = [RunRow.of(run, depth=parent.depth + 1) for run in children]
        self.rows[index + 1 : index + 1] = new
        self._nested += len(new)
        self._measure(new)
        self._keep_whole(new)
        if self.cursor_row > index:
            self.cursor_row += len(new)
        self._resize()
        self.refresh()

    def expand_failed(self, parent_id: str) -> None:
        index = self._index_of(parent_id)
        if index is not None:
            self.rows[index].loading = False
            self.refresh()

    def cursor_anchor(self) -> CursorAnchor | None:
        """The cursor's place, for `restore` after the rows are reloaded (None: no rows)."""
        if self.current_row is None:
            return None
        expanded = frozenset(row_id(r) for r in self.rows if r.expanded)
        ids = [row_id(r) for r in self.rows]
        return anchor_at(ids, self.cursor_row, self.cursor_row - int(self.scroll_y), expanded)

    def restore(self, anchor: CursorAnchor) -> bool:
        """Put the cursor back on the anchored run, at the same line on screen; if that run is
        no longer loaded, on its nearest neighbour that is. True when the run itself was found."""
        target = landing(anchor, {row_id(r) for r in self.rows})
        index = self._index_of(target) if target is not None else None
        if index is None:
            return False
        self.cursor_row = index
        self.scroll_to(y=max(0, index - min(anchor.screen_line, self._body_height - 1)), animate=False)
        return target == anchor.item_id

    def start_expanding(self, row_ids: frozenset[str]) -> list[Row]:
        """Mark the loaded, collapsed top-level rows among `row_ids` as loading their children
        or runs (the screen fetches them, as for Space); returns those rows."""
        rows = [r for r in self.rows if r.depth == 0 and row_id(r) in row_ids and not r.expanded]
        for row in rows:
            row.loading = True
        self.refresh()
        return rows

    def update_runs(self, runs: list[Run]) -> None:
        """Replace the whole rows' runs by these newer copies (same ids), in place: the rows,
        their order, the cursor and the scroll position stay (slimmed rows are read again
        when they come back into view)."""
        fresh = {run.id: run for run in runs}
        for row in self._whole:
            if row.id in fresh:
                row.fill(fresh[row.id])
        self.refresh()

    @property
    def whole_rows(self) -> list[RunRow]:
        """The run rows holding their run (not slimmed), in no particular order."""
        return list(self._whole)

    def slimmed_rows_near_view(self, limit: int) -> list[RunRow]:
        """Slimmed rows to read again: none unless one is within a screen of the screen; then
        up to `limit` of them, those on screen first, then the nearest below and above (never
        further than SLIM_DISTANCE, which would be slimmed again at once)."""
        top, height = int(self.scroll_y), self._body_height
        if not any(self._needs_run(row) for row in self.rows[max(0, top - height) : top + 2 * height]):
            return []
        reach = min(limit, SLIM_DISTANCE)
        on_screen = [row for row in self.rows[top : top + height] if self._needs_run(row)]
        below = [row for row in self.rows[top + height : top + height + reach] if self._needs_run(row)]
        above = [row for row in self.rows[max(0, top - reach) : top] if self._needs_run(row)][::-1]
        nearest = [row for pair in zip_longest(below, above) for row in pair if row is not None]
        return (on_screen + nearest)[:limit]

    def fill_rows(self, rows: Sequence[RunRow], found: Mapping[str, Run]) -> None:
        """Give slimmed rows their runs read again (`found`: by id); a row whose run is not
        found was purged meanwhile and is shown as gone."""
        filled, gone = [], []
        for row in rows:
            run = found.get(row.id)
            if row.run is not None:
                continue
            if run is None:
                self._gone.add(row.id)
                gone.append(row)
            else:
                row.fill(run)
                filled.append(row)
        self._measure(filled + gone)
        self._keep_whole(filled)
        self.refresh()

    def visible_rows(self) -> list[RunRow]:
        """The run rows on screen now (what sparklines are read for; group rows have none)."""
        top = int(self.scroll_y)
        return [row for row in self.rows[top : top + self._body_height] if isinstance(row, RunRow)]

    def is_gone(self, row: RunRow) -> bool:
        """True for a slimmed row whose run was not found when read again."""
        return row.run is None and row.id in self._gone

    def visible_columns(self) -> list[Column]:
        """The columns drawn now."""
        return [placed.column for placed in self._current_layout().placed]

    @property
    def current(self) -> RunRow | None:
        """The run under the cursor (None on a group row or an empty table)."""
        row = self.current_row
        return row if isinstance(row, RunRow) else None

    @property
    def current_row(self) -> Row | None:
        if 0 <= self.cursor_row < len(self.rows):
            return self.rows[self.cursor_row]
        return None

    @property
    def top_level_count(self) -> int:
        return len(self.rows) - self._nested

    # -- actions ---------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor_row - max(1, self._body_height - 1))

    def action_page_down(self) -> None:
        self._move(self.cursor_row + max(1, self._body_height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self.rows) - 1)

    def action_choose(self) -> None:
        row = self.current_row
        if isinstance(row, GroupRow):
            self.action_expand()
        elif row is not None:
            self.post_message(self.Chosen(row))

    def action_expand(self) -> None:
        row = self.current_row
        if isinstance(row, GroupRow):
            self._toggle_group(row)
            return
        if row is None or row.depth > 0 and not row.has_children:
            return
        if row.expanded:
            self._collapse(self.cursor_row)
        elif row.has_children is not False and not row.loading:
            row.loading = True
            self.refresh()
            self.post_message(self.ExpandRequested(row))

    def _toggle_group(self, row: GroupRow) -> None:
        if row.expanded:
            self._collapse(self.cursor_row)
        elif not row.loading:
            row.loading = True
            self.refresh()
            self.post_message(self.GroupExpandRequested(row))

    def action_collapse(self) -> None:
        row = self.current_row
        if row is None:
            return
        if row.expanded:
            self._collapse(self.cursor_row)
            return
        for index in range(self.cursor_row - 1, -1, -1):  # jump to the parent
            if self.rows[index].depth < row.depth:
                self._move(index)
                return

    def action_scroll_columns(self, direction: int) -> None:
        """Show the next (1) or previous (-1) column after the pinned ones."""
        layout = self._current_layout()
        if (direction > 0 and layout.more_right) or (direction < 0 and layout.more_left):
            self._first_column = layout.first + direction
            self._layout = None
            self.refresh()
            self.post_message(self.ViewportMoved())

    @property
    def placed_columns(self) -> tuple[Placed, ...]:
        """The columns drawn now, left to right, with their cell offsets and widths."""
        return self._current_layout().placed

    # -- internals -------------------------------------------------------------------------

    @property
    def _content_width(self) -> int:
        """Cells a row can use: the vertical scrollbar covers the last column of `size`."""
        return self.scrollable_content_region.width

    @property
    def _body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _index_of(self, id_: str) -> int | None:
        """Index of the row of this run id (or GroupRow.row_id)."""
        return next((i for i, row in enumerate(self.rows) if row_id(row) == id_), None)

    def _collapse(self, index: int) -> None:
        row = self.rows[index]
        end = index + 1
        while end < len(self.rows) and self.rows[end].depth > row.depth:
            end += 1
        removed = self.rows[index + 1 : end]
        del self.rows[index + 1 : end]
        self._nested -= len(removed)
        self._whole.difference_update(r for r in removed if isinstance(r, RunRow))
        row.expanded = False
        if isinstance(row, GroupRow):
            row.next_token = None  # expanding again reads from the first page
        if self.cursor_row > index:
            self.cursor_row = index
        self._resize()
        self.refresh()

    def _move(self, row: int) -> None:
        if not self.rows:
            return
        self.cursor_row = max(0, min(row, len(self.rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + self._body_height:
            self.scroll_to(y=new - self._body_height + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self.current))
        if self.aggregates is not None:
            row = self.current
            group = row.group if row is not None else None
            if group is not None and group.next_token and not group.loading and self._last_of_group(new):
                self.post_message(self.GroupNearEnd(group))
        elif self.rows and new >= len(self.rows) - NEAR_END_ROWS:
            self.post_message(self.NearEnd())

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if int(old) != int(new):
            self.post_message(self.ViewportMoved())

    def _forget_rows(self) -> None:
        """Bookkeeping of rows no longer shown: after `rows` was replaced."""
        self._whole = {row for row in self.rows if isinstance(row, RunRow) and row.run is not None}
        self._gone = set()
        self._nested = sum(1 for row in self.rows if row.depth > 0)

    def _needs_run(self, row: Row) -> TypeGuard[RunRow]:
        """A slimmed run row whose run may still be found."""
        return isinstance(row, RunRow) and row.run is None and row.id not in self._gone

    def _keep_whole(self, rows: list[RunRow]) -> None:
        """Count `rows` as whole; once too many rows are, slim the far ones (after the caller
        has put the cursor where it goes, e.g. back on its run after a reload)."""
        self._whole.update(rows)
        if len(self._whole) > 3 * SLIM_DISTANCE and not self._slim_scheduled:
            self._slim_scheduled = True
            self.call_later(self._slim_far_rows)

    def _slim_far_rows(self) -> None:
        """Drop the run of every row more than SLIM_DISTANCE rows from the screen and from the
        cursor (the row keeps what its placeholder line needs; see RunRow)."""
        self._slim_scheduled = False
        top = int(self.scroll_y)
        first = max(0, min(top, self.cursor_row) - SLIM_DISTANCE)
        end = max(top + self._body_height, self.cursor_row + 1) + SLIM_DISTANCE
        near = set(self.rows[first:end])
        far = [row for row in self._whole if row not in near]
        for row in far:
            row.run = None
        self._whole.difference_update(far)
        if far:
            self.post_message(self.Slimmed())

    def _last_of_group(self, index: int) -> bool:
        return index + 1 >= len(self.rows) or self.rows[index + 1].depth < self.rows[index].depth

    def _resize(self) -> None:
        self._layout = None
        self.virtual_size = Size(0, len(self.rows) + 1)  # columns never scroll by cells
        self.refresh()
        self.post_message(self.ViewportMoved())

    def header_label(self, col: Column) -> str:
        """A column's header: grouped, metric columns name their aggregate (`mean acc`)."""
        if self.aggregates is not None and col.kind == "metrics":
            return f"{self.aggregates.get(col.key, 'mean')} {col.label}"
        return col.label

    def group_cell(self, row: GroupRow, col: Column) -> str:
        """A group row's cell: the aggregate in metric columns, blank elsewhere."""
        if col.kind != "metrics" or self.aggregates is None:
            return ""
        value = row.group.aggregates.get((col.key, self.aggregates.get(col.key, "mean")))
        return MISSING if value is None else format_metric_value(value)

    def _measure(self, rows: Sequence[Row], reset: bool = False) -> None:
        """Grow each column's content width to fit `rows` (`reset`: start from the labels), as
        drawn: control characters in store text are shown as several cells (safe_text.inert)."""
        widths = self._widths
        if reset:
            widths.clear()
        for col in self.columns:
            width = widths.get(col.id)
            label = self.header_label(col)
            if width is None:
                width = min(cell_len(inert(label)) + 1, MAX_LABEL_WIDTH) if label else 1
            if col.kind == "spark":
                width = max(width, col.width)
            elif col.id == "attr:name":
                for row in rows:
                    name = self._shown_name(row) if isinstance(row, RunRow) else row.title
                    width = max(width, 2 * row.depth + 2 + cell_len(MARK_GLYPH) + cell_len(inert(name)))
            elif col.id != "attr:status":
                for row in rows:
                    if isinstance(row, RunRow):
                        if row.run is None:
                            continue  # slimmed: measured when it was read
                        text = col.text(row.run)
                    else:
                        text = self.group_cell(row, col)
                    width = max(width, min(cell_len(inert(text)), MAX_COLUMN_WIDTH))
            widths[col.id] = width
        self._layout = None

    def _current_layout(self) -> Layout:
        if self._layout is None:
            self._layout = lay_out(self.columns, self._widths, self._first_column, self._content_width)
            self._first_column = self._layout.first
        return self._layout

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._resize()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            for placed in self._current_layout().placed:
                if placed.x <= offset.x < placed.x + placed.width + 1:
                    self.post_message(self.HeaderClicked(placed.column))
                    return
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.rows):
            if index == self.cursor_row and event.chain >= 2:
                self.action_choose()
            self._move(index)

    def _style(self, *names: str) -> Style:
        """The widget's own style plus only what the component classes declare (app.tcss).

        Computed once per repaint (see render_lines): Textual's style lookups are too slow
        to repeat for every cell.
        """
        cached = self._styles.get(names)
        if cached is None:
            cached = self._base_style
            for name in names:
                cached += self.get_component_rich_style(name, partial=True)
            self._styles[names] = cached
        return cached

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = {}
        self._base_style = self.rich_style
        if self._layout is not None and self._layout_width != self._content_width:
            self._layout = None
        self._current_layout()
        self._layout_width = self._content_width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        width = self.size.width
        base = self._base_style
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index < len(self.rows):
                row = self.rows[index]
                if isinstance(row, GroupRow):
                    strip = self._group_strip(row, index == self.cursor_row)
                else:
                    strip = self._row_strip(row, index == self.cursor_row)
            elif index == 0 and not self.rows:
                strip = Strip([Segment(self.empty_text, self._style("runs-table--muted"))])
            else:
                strip = Strip([])
        return strip.crop_extend(0, width, base)

    def _header_strip(self) -> Strip:
        header = self._style("runs-table--header")
        sorted_style = self._style("runs-table--header", "runs-table--sorted")
        layout = self._current_layout()
        segments: list[Segment] = []
        for i, placed in enumerate(layout.placed):
            col = placed.column
            label = self.header_label(col)
            style = header
            if col.id == self.sort_column:
                label = f"{'▲' if self.sort_ascending else '▼'}{label}"
                style = sorted_style
            if i:
                segments.append(Segment(" ", header))
            segments.append(Segment(_fit(label, placed.width, right=col.kind == "metrics", middle=True), style))
        strip = Strip(segments)
        hint = ("‹[ " if layout.more_left else "") + ("]›" if layout.more_right else "")
        room = self._content_width - strip.cell_length
        if hint and room >= len(hint) + 1:  # say that [ and ] show more columns
            strip = Strip([*segments, Segment(" " * (room - len(hint)), header), Segment(hint, header)])
        return strip.extend_cell_length(self.size.width, header)

    def _row_strip(self, row: RunRow, is_cursor: bool) -> Strip:
        run = row.run
        extra = ("runs-table--deleted",) if row.lifecycle_stage == "deleted" else ()
        base = self._style(*extra)
        muted = self._style(*extra, "runs-table--muted")
        status_style = self._style(*extra, _STATUS_CLASSES.get(row.status, "runs-table--muted"))
        # A slimmed row's cells say they are being read (or nothing, once its run is gone).
        placeholder = "" if self.is_gone(row) else READING
        segments: list[Segment] = []
        for i, placed in enumerate(self._current_layout().placed):
            col, width = placed.column, placed.width
            if i:
                segments.append(Segment(" ", base))
            if col.id == "attr:name":
                segments.extend(self._name_segments(row, width, base, muted))
            elif run is None:
                segments.append(Segment(_fit(placeholder, width, right=col.kind == "metrics"), muted))
            elif col.id == "attr:status":
                segments.append(Segment(_fit(col.text(run), width), status_style))
            elif col.kind == "spark":
                segments.append(self._sparkline_segment(run, col.key, width, extra, muted))
            else:
                text = col.text(run)
                style = muted if text == MISSING else base
                segments.append(Segment(_fit(text, width, right=col.kind == "metrics"), style))
        return self._with_cursor(Strip(segments).extend_cell_length(self.size.width, base), is_cursor)

    def _group_strip(self, row: GroupRow, is_cursor: bool) -> Strip:
        base = self._style("runs-table--group")
        muted = self._style("runs-table--group", "runs-table--muted")
        segments: list[Segment] = []
        for i, placed in enumerate(self._current_layout().placed):
            col, width = placed.column, placed.width
            if i:
                segments.append(Segment(" ", base))
            if col.id == "attr:name":
                marker = "… " if row.loading else "▾ " if row.expanded else "▸ "
                segments.append(Segment(_fit(marker, min(2, width)), muted))
                segments.append(Segment(_fit(row.title, width - min(2, width), middle=True), base))
            else:
                text = self.group_cell(row, col)
                segments.append(Segment(_fit(text, width, right=col.kind == "metrics"),
                                        muted if text == MISSING else base))
        return self._with_cursor(Strip(segments).extend_cell_length(self.size.width, base), is_cursor)

    def _with_cursor(self, strip: Strip, is_cursor: bool) -> Strip:
        if is_cursor:
            name = "runs-table--cursor" if self.has_focus else "runs-table--cursor-blurred"
            cursor = self._styles.get((name, "post"))
            if cursor is None:
                cursor = self._styles[(name, "post")] = self.get_component_rich_style(name, partial=True)
            strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip

    def _sparkline_segment(self, run: Run, key: str, width: int, extra: tuple[str, ...], muted: Style) -> Segment:
        """The run's sparkline of `key`; `…` while it is being read, `—` without the metric."""
        line = self.sparklines.line(run, key) if self.sparklines is not None else None
        if line is None:
            return Segment(_fit("…", width), muted)
        if not line:
            return Segment(_fit(MISSING, width), muted)
        return Segment(_fit(line, width), self._style(*extra, "runs-table--sparkline"))

    def _shown_name(self, row: RunRow) -> str:
        return GONE_PREFIX + row.display_name if self.is_gone(row) else row.display_name

    def _name_segments(self, row: RunRow, width: int, base: Style, muted: Style) -> list[Segment]:
        if row.loading:
            marker = "… "
        elif row.expanded:
            marker = "▾ "
        elif row.has_children:
            marker = "▸ "
        elif row.depth > 0 or row.parent_run_id:
            marker = "↳ "
        else:
            marker = "  "
        prefix = "  " * row.depth + marker
        name = self._shown_name(row)
        if row.id in self.marked:
            name = MARK_GLYPH + name
        prefix = _fit(prefix, min(cell_len(prefix), width))
        # Cut in the middle: runs of a sweep often differ only at the end of their names.
        return [Segment(prefix, muted), Segment(_fit(name, width - cell_len(prefix), middle=True), base)]


def _fit(text: str, width: int, right: bool = False, middle: bool = False) -> str:
    """Pad or cut `text` to exactly `width` cells, marking a cut with an ellipsis (in the
    middle with `middle`, keeping both ends). Every cell and header passes here, so this is
    where store text is made inert (no control characters reach the terminal; segments are
    never parsed as markup)."""
    if width <= 0:
        return ""
    text = inert(text)
    length = cell_len(text)
    if length > width:
        if middle:
            return cut_middle(text, width)
        return set_cell_size(text, width - 1) + "…"
    if right:
        return " " * (width - length) + text
    return set_cell_size(text, width)

