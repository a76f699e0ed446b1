"""Scale benchmark (issue 25): the views a user opens on the 1M-run store (build_scale_store.py),
direct on PostgreSQL and MariaDB and through a real `mlflow server` over the PostgreSQL store.

Tables printed (each row with the load average when it was measured):
- direct PostgreSQL: first painted runs table of the 500k-run experiment from process start
  (bench_startup.py's pseudo-terminal probe), next page while scrolling (the second, and a page
  250,000 runs deep), sort by a metric, a param + metric filter, the run counts of all 20
  experiments, group-by of a param with a metric mean over 500k runs, the trace list of the
  200k-trace experiment and a span filter on it; targets beside them;
- direct MariaDB (the same 1M-run build): first page, sorted page, count;
- over `mlflow server` (PostgreSQL behind it): tracktui's RestStore vs MlflowClient vs the web
  UI's own request (the body its runs page POSTs to `ajax-api/2.0/mlflow/runs/search`), same
  endpoint and page size, with the ratio;
- the watch board: one refresh of 50 RUNNING runs, direct and over the server, with the number
  of SQL queries / HTTP requests (bench_watch.py's counters);
- with `--scroll`, the TUI scrolled to the end of the 500k-run experiment: RSS (tui_runs.py's
  child process).
`--explain` instead prints the query plans of the hot queries (PostgreSQL `EXPLAIN (ANALYZE,
BUFFERS)`, MariaDB `EXPLAIN`) and rewrites the plans section of bench/README.md with them.
Not a test: run it by hand, after `build_scale_store.py` for both backends.

    python bench/bench_scale.py [--repeat 5] [--only direct,mariadb,server,board,tui] [--scroll] [--explain]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rest import start_server  # noqa: E402
from bench_startup import compile_package, launch  # noqa: E402
from bench_watch import rest_row, sql_row  # noqa: E402
from build_scale_store import ScaleStore, build  # noqa: E402
from timing import load, measure, ratio  # noqa: E402

from tracktui.store import open_store  # noqa: E402
from tracktui.store.paging import encode_page_token  # noqa: E402
from tracktui.tui.screens.runs import PAGE_SIZE  # noqa: E402
from tracktui.tui.screens.traces import ORDER_BY as TRACE_ORDER  # noqa: E402
from tracktui.tui.screens.traces import PAGE_SIZE as TRACE_PAGE  # noqa: E402
from tracktui.tui.watch.board import MAX_RUNS, RUNNING_FILTER  # noqa: E402

SORT = ("metrics.m0 DESC",)
FILTER = "params.p1 = 'adam' and metrics.m1 > 0.5"
SPAN_FILTER = "span.attributes.model LIKE '%claude%'"
GROUP = ("params.p0", [("m0", "mean")])
DEEP_OFFSET = 250_000
README = Path(__file__).resolve().parent / "README.md"
PLANS_BEGIN = "<!-- bench_scale.py --explain: begin -->"
PLANS_END = "<!-- bench_scale.py --explain: end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--traces", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="direct,mariadb,server,board,tui")
    parser.add_argument("--scroll", action="store_true", help="also scroll the TUI to the end of 500k runs (slow)")
    parser.add_argument("--explain", action="store_true", help="print the hot queries' plans into bench/README.md")
    args = parser.parse_args()
    pg = build("postgres", args.runs, args.traces)
    only = set(args.only.split(","))
    if args.explain:
        maria = build("mariadb", args.runs, args.traces)
        write_plans(explain_postgres(pg) + "\n" + explain_mariadb(maria))
        return
    print(f"scale store: {pg.runs:,} runs in 20 experiments (the largest {pg.runs // 2:,}), {pg.traces:,} traces; "
          f"median of {args.repeat} after a warm-up\n")
    if "direct" in only:
        print_rows("direct PostgreSQL", direct_rows(pg, args.repeat, with_traces=True))
    if "mariadb" in only:
        print_rows("direct MariaDB", direct_rows(build("mariadb", args.runs, args.traces), args.repeat))
    if "tui" in only:
        print_rows("the TUI on PostgreSQL", tui_rows(pg, args.repeat, args.scroll))
    if "server" in only or "board" in only:
        process, url = start_server(pg.uri)
        try:
            if "server" in only:
                print_server(server_rows(pg, url, max(1, args.repeat // 2)))
            if "board" in only:
                print_board(pg.uri, url, args.repeat)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


# -- direct ---------------------------------------------------------------------------------------

Row = tuple[str, str, str, str, str, str]  # measurement, wall, cpu, its first statement alone, target, load


def direct_rows(info: ScaleStore, repeat: int, with_traces: bool = False) -> list[Row]:
    eid = info.largest_experiment_id
    rows: list[Row] = []
    with open_store(info.uri, read_only=True) as store:
        first = store.search_runs([eid], max_results=PAGE_SIZE)
        token = first.next_page_token
        deep = encode_page_token(DEEP_OFFSET)  # tokens are offsets (store/paging.py)
        ids = [e.id for e in store.search_experiments(max_results=1000).items]
        cases: list[tuple[str, Callable[[], object], float | None]] = [
            (f"first page ({PAGE_SIZE} runs)", lambda: store.search_runs([eid], max_results=PAGE_SIZE), 0.3),
            ("next page (the second)", lambda: store.search_runs([eid], max_results=PAGE_SIZE, page_token=token), 0.3),
            (f"a page {DEEP_OFFSET:,} runs deep", lambda: store.search_runs([eid], max_results=PAGE_SIZE,
                                                                           page_token=deep), None),
            (f"sorted by {SORT[0]}", lambda: store.search_runs([eid], order_by=SORT, max_results=PAGE_SIZE), 0.3),
            (f"filter {FILTER}", lambda: store.search_runs([eid], FILTER, max_results=PAGE_SIZE), 0.3),
            (f"run counts of all {len(ids)} experiments", lambda: store.count_runs_by_experiment(ids), 0.3),
        ]
        if with_traces:
            tid = info.trace_experiment_id
            cases += [
                (f"group by {GROUP[0]}, mean of m0", lambda: store.group_runs([eid], GROUP[0], GROUP[1]), 1.0),
                (f"trace list, first page ({TRACE_PAGE})",
                 lambda: store.search_traces([tid], "", TRACE_PAGE, None, TRACE_ORDER), 0.3),
                (f"trace list, {SPAN_FILTER}",
                 lambda: store.search_traces([tid], SPAN_FILTER, TRACE_PAGE, None, TRACE_ORDER), 0.3),
            ]
        for label, call, target in cases:
            sql = captured_statement(store, lambda _store, call=call: call())
            timing = measure(call, repeat)
            floor = measure(lambda sql=sql: _run_raw(store, sql), repeat)
            rows.append((label, _ms(timing.wall), _ms(timing.cpu), _ms(floor.wall), _verdict(timing.wall, target),
                         _load()))
    return rows


def _run_raw(store, sql: str) -> None:
    """The database's part: the call's first (page, count or group) statement alone."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql(sql.replace("%", "%%")).fetchall()


def tui_rows(info: ScaleStore, repeat: int, scroll: bool) -> list[Row]:
    """Process start → painted runs table of the largest experiment (and optionally RSS after
    scrolling to its end)."""
    compile_package()
    tracktui = str(Path(sys.executable).parent / "tracktui")
    command = [tracktui, info.uri, "-e", info.largest_experiment_id]
    launch(command, "RunsScreen")  # cold
    samples = [launch(command, "RunsScreen") for _ in range(repeat)]
    walls = sorted(w for w, _ in samples)
    cpus = sorted(c for _, c in samples)
    wall, cpu = walls[len(walls) // 2], cpus[len(cpus) // 2]
    rows: list[Row] = [(f"launch → runs table painted ({info.runs // 2:,}-run experiment)", _ms(wall), _ms(cpu),
                        "—", _verdict(wall, 1.0), _load())]
    if scroll:
        from tui_runs import measure as measure_tui

        result = measure_tui(info.uri, scroll=True, experiment="scale-01")
        rows.append((f"scrolled to the end ({result['scrolled_rows']:,} runs, {result['scroll_to_end_s']} s, "
                     f"slowest page {result['slowest_page_s']} s): RSS / peak",
                     f"{result['VmRSS_mb']} MB", f"{result['VmHWM_mb']} MB", "—",
                     "< 300 MB: " + ("OK" if result["VmHWM_mb"] < 300 else "over"), _load()))
    return rows


# -- over mlflow server ---------------------------------------------------------------------------


def server_rows(info: ScaleStore, url: str, repeat: int) -> list[tuple[str, float, float | None, float | None, str]]:
    """(view, tracktui s, MlflowClient s, web-UI request s, load) for the same endpoint calls."""
    import httpx
    import mlflow

    eid, tid = info.largest_experiment_id, info.trace_experiment_id
    client = mlflow.MlflowClient(url)
    http = httpx.Client(base_url=url, timeout=600)

    def ui_search(order_by=("attributes.start_time DESC",), filter_string="", token=None):
        body = {"experiment_ids": [eid], "filter": filter_string, "run_view_type": "ACTIVE_ONLY",
                "max_results": PAGE_SIZE, "order_by": list(order_by)}
        if token:
            body["page_token"] = token
        http.post("/ajax-api/2.0/mlflow/runs/search", json=body).raise_for_status()

    out = []
    with open_store(url, read_only=True) as store:
        token = store.search_runs([eid], max_results=PAGE_SIZE).next_page_token
        mlflow_token = client.search_runs([eid], max_results=PAGE_SIZE).token
        cases = [
            (f"first page ({PAGE_SIZE} runs)", lambda: store.search_runs([eid], max_results=PAGE_SIZE),
             lambda: client.search_runs([eid], max_results=PAGE_SIZE), lambda: ui_search()),
            ("next page", lambda: store.search_runs([eid], max_results=PAGE_SIZE, page_token=token),
             lambda: client.search_runs([eid], max_results=PAGE_SIZE, page_token=mlflow_token),
             lambda: ui_search(token=mlflow_token)),
            (f"sorted by {SORT[0]}", lambda: store.search_runs([eid], order_by=SORT, max_results=PAGE_SIZE),
             lambda: client.search_runs([eid], order_by=list(SORT), max_results=PAGE_SIZE),
             lambda: ui_search(order_by=SORT)),
            ("param + metric filter", lambda: store.search_runs([eid], FILTER, max_results=PAGE_SIZE),
             lambda: client.search_runs([eid], FILTER, max_results=PAGE_SIZE),
             lambda: ui_search(filter_string=FILTER)),
            (f"trace list, first page ({TRACE_PAGE})",
             lambda: store.search_traces([tid], "", TRACE_PAGE, None, TRACE_ORDER),
             lambda: client.search_traces(locations=[tid], max_results=TRACE_PAGE, order_by=list(TRACE_ORDER)),
             None),
            ("trace list, span filter",
             lambda: store.search_traces([tid], SPAN_FILTER, TRACE_PAGE, None, TRACE_ORDER),
             lambda: client.search_traces(locations=[tid], filter_string=SPAN_FILTER, max_results=TRACE_PAGE,
                                          order_by=list(TRACE_ORDER)),
             None),
        ]
        for label, ours, theirs, ui in cases:
            ours_t = measure(ours, repeat).wall
            theirs_t = measure(theirs, repeat).wall
            ui_t = measure(ui, repeat).wall if ui else None
            out.append((label, ours_t, theirs_t, ui_t, _load()))
        # No count endpoint: RestStore probes offsets (~2·log2(n) one-run searches), each a
        # server query as deep as its offset; measured once, on the largest experiment only.
        count = measure(lambda: store.count_runs(eid), 1, warmup=False)
        out.append((f"run count of the {info.runs // 2:,}-run experiment (offset probes)", count.wall, None, None,
                    _load()))
    http.close()
    return out


def print_board(uri: str, url: str, repeat: int) -> None:
    rows = [sql_row(uri, repeat, "PostgreSQL (direct)"), rest_row(url, repeat)]
    print(f"watch board: one refresh (median of {repeat}; {load()})")
    print("| store | running runs | ms | queries/requests | target |")
    print("|---|---|---|---|---|")
    for name, wall, calls, running in rows:
        target = "< 200 ms: " + ("OK" if wall < 0.2 else "over") if "direct" in name else "—"
        print(f"| {name} | {running} | {wall * 1000:.1f} | {calls} | {target} |")
    print()


# -- plans ----------------------------------------------------------------------------------------


def hot_queries(info: ScaleStore) -> list[tuple[str, Callable]]:
    """(label, call) for each hot query: the call runs the store method with SQL capture on."""
    eid, tid = info.largest_experiment_id, info.trace_experiment_id
    return [
        ("first page", lambda s: s.search_runs([eid], max_results=PAGE_SIZE)),
        ("sort by metric", lambda s: s.search_runs([eid], order_by=SORT, max_results=PAGE_SIZE)),
        ("param + metric filter", lambda s: s.search_runs([eid], FILTER, max_results=PAGE_SIZE)),
        ("counts per experiment", lambda s: s.count_runs_by_experiment([str(i) for i in range(1, 21)])),
        ("group-by", lambda s: s.group_runs([eid], GROUP[0], GROUP[1])),
        ("trace page", lambda s: s.search_traces([tid], "", TRACE_PAGE, None, TRACE_ORDER)),
        ("trace span filter", lambda s: s.search_traces([tid], SPAN_FILTER, TRACE_PAGE, None, TRACE_ORDER)),
        ("page 250,000 runs deep", lambda s: s.search_runs([eid], max_results=PAGE_SIZE,
                                                           page_token=encode_page_token(DEEP_OFFSET))),
        ("watch board's running runs", lambda s: s.search_runs([str(i) for i in range(1, 21)], RUNNING_FILTER,
                                                               max_results=MAX_RUNS)),
    ]


#: Indexes MLflow's schema lacks, each with the hot queries it is for (docs/scale.md). Only
#: ever created inside a transaction that is rolled back: the bench store keeps MLflow's schema.
RUNS_INDEX = "CREATE INDEX what_if_runs_experiment ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid)"
WHAT_IF = (
    ((RUNS_INDEX,), ("first page", "page 250,000 runs deep", "counts per experiment", "sort by metric")),
    (("CREATE INDEX what_if_runs_status ON runs (status)",), ("watch board's running runs",)),
    ((RUNS_INDEX, "CREATE INDEX what_if_latest_covering ON latest_metrics (key, run_uuid) INCLUDE (value, is_nan)"),
     ("sort by metric", "group-by")),
)


def captured_statement(store, call) -> str:
    """The first SQL statement `call(store)` runs (the hot one: the page, count or group query),
    with its parameters inlined."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        call(store)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        if store.engine.dialect.name == "postgresql":
            return cursor.mogrify(statement, parameters).decode()
        return cursor.mogrify(statement, parameters)


def explain_postgres(info: ScaleStore) -> str:
    out = [f"#### PostgreSQL ({_server_version(info.uri)}), `EXPLAIN (ANALYZE, BUFFERS)` — {_stamp()}\n"]
    statements = {}
    with open_store(info.uri, read_only=True) as store:
        for label, call in hot_queries(info):
            statements[label] = sql = captured_statement(store, call)
            with store.engine.connect() as conn:
                plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))]
            out.append(f"**{label}**\n\n```\n{_summary(plan)}\n```\n")
    out.append(what_if_postgres(info, statements))
    return "\n".join(out)


def what_if_postgres(info: ScaleStore, statements: dict[str, str]) -> str:
    """Execution time of the hot queries without and with each index of WHAT_IF, the index
    created in a transaction that is rolled back (PostgreSQL's DDL is transactional)."""
    # tracktui's own session settings, but writable (the index is created, then rolled back)
    engine = sa.create_engine(info.uri, poolclass=sa.pool.NullPool, connect_args={"options": "-c jit=off"})
    out = [f"#### What an index buys (PostgreSQL, created and rolled back) — {_stamp()}\n",
           "| index | query | without | with | plan with it |", "|---|---|---|---|---|"]
    try:
        for ddls, labels in WHAT_IF:
            before = {label: _execution(engine.connect(), statements[label]) for label in labels}
            with engine.connect() as conn:
                for ddl in ddls:
                    conn.exec_driver_sql(ddl)
                    conn.exec_driver_sql(f"ANALYZE {ddl.split(' ON ')[1].split()[0]}")
                indexes = " + ".join(f"`{ddl.split(' ON ')[1]}`" for ddl in ddls)
                for label in labels:
                    ms, top = _execution(conn, statements[label], with_plan=True)
                    out.append(f"| {indexes} | {label} | {before[label][0]:.0f} ms | {ms:.0f} ms | {top} |")
                conn.rollback()
    finally:
        engine.dispose()
    return "\n".join(out) + "\n"


def _execution(conn, sql: str, with_plan: bool = False):
    """(Execution time in ms from EXPLAIN ANALYZE, the plan's scan nodes); closes `conn`
    unless `with_plan` (the caller's transaction)."""
    plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN ANALYZE " + sql.replace("%", "%%"))]
    if not with_plan:
        conn.close()
    ms = float(next(line for line in plan if line.startswith("Execution Time")).split()[2])
    scans = [line.strip().lstrip("-> ").split("  (")[0] for line in plan if " Scan " in line or "Scan on" in line]
    return ms, "; ".join(dict.fromkeys(scans))


def explain_mariadb(info: ScaleStore) -> str:
    out = [f"#### MariaDB ({_server_version(info.uri)}), `EXPLAIN` — {_stamp()}\n"]
    with open_store(info.uri, read_only=True) as store:
        for label, call in hot_queries(info)[:4]:
            sql = captured_statement(store, call)
            with store.engine.connect() as conn:
                result = conn.exec_driver_sql("EXPLAIN " + sql.replace("%", "%%"))
                names = list(result.keys())
                rows = [dict(zip(names, r)) for r in result]
            lines = [f"{r['id']} {r['select_type']:<18} {r['table'] or '':<14} {r['type'] or '':<7} "
                     f"key={r['key']} rows={r['rows']} {r['Extra'] or ''}" for r in rows]
            out.append(f"**{label}**\n\n```\n" + "\n".join(lines) + "\n```\n")
    return "\n".join(out)


def _summary(plan: list[str]) -> str:
    """The plan without the buffer detail lines of inner nodes (kept: node lines, filters,
    index conditions, the top buffers line and the timing summary)."""
    keep = []
    for n, line in enumerate(plan):
        text = line.strip()
        if text.startswith(("Buffers:", "I/O Timings:")) and n > 1 or text == "Planning:":
            continue
        if text.startswith(("Rows Removed by", "Heap Blocks", "Worker ", "Sort Method", "Memory Usage")):
            continue
        keep.append(line)
    return "\n".join(keep)


def write_plans(text: str) -> None:
    readme = README.read_text()
    block = f"{PLANS_BEGIN}\n{text}\n{PLANS_END}"
    if PLANS_BEGIN in readme:
        readme = re.sub(re.escape(PLANS_BEGIN) + ".*?" + re.escape(PLANS_END), lambda _: block, readme, flags=re.S)
    else:
        readme += f"\n{block}\n"
    README.write_text(readme)
    print(text)


def _server_version(uri: str) -> str:
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version()").scalar()
    engine.dispose()
    return str(version).split(" on ")[0].split(",")[0]


# -- printing -------------------------------------------------------------------------------------


def print_rows(title: str, rows: list[Row]) -> None:
    print(f"{title}")
    print("| measurement | wall | CPU | its SQL alone (wall) | target | load |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def print_server(rows) -> None:
    print("over mlflow server (PostgreSQL behind it; wall time, the server's work included)")
    print("| view | tracktui | MlflowClient | web UI request | tracktui / MlflowClient | load |")
    print("|---|---|---|---|---|---|")
    for label, ours, theirs, ui, when in rows:
        shown_theirs = _ms(theirs) if theirs is not None else "—"
        shown_ui = _ms(ui) if ui is not None else "—"
        shown_ratio = ratio(ours, theirs).strip() if theirs is not None else "—"
        print(f"| {label} | {_ms(ours)} | {shown_theirs} | {shown_ui} | {shown_ratio} | {when} |")
    print()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(wall: float, target: float | None) -> str:
    if target is None:
        return "—"
    return f"< {target * 1000:.0f} ms: " + ("OK" if wall < target else "over")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + f", {load()}"


if __name__ == "__main__":
    main()
