"""The read contract every backend honours, written once and run on each backend.

Most tests are differential: tracktui's answer must equal the real `MlflowClient`'s answer on
the same store (same ids in the same order, same names, times, params, metrics, tags). So what
a backend really returns (SQL stores clamp inf to ±1.7976931348623157e308, REST returns
experiment ids as strings, …) is compared to what mlflow itself returns there.
"""

from __future__ import annotations

import math
import re

import pytest

from fixtures.data import (
    ALPHA,
    BETA,
    DELETED_EXP,
    EMPTY_EXP,
    MANY_STEPS,
    MANY_STEPS_MAX,
    MANY_STEPS_MIN,
    MINUTE,
    QUOTED_EXP,
    T0,
    UNICODE_EXP,
    UNICODE_RUN,
)
from tracktui.store import FilterSyntaxError, InvalidValue, Keys, NotFound
from tracktui.store.downsample import downsample_minmax
from tracktui.store.sql import histories as sql_histories
from tracktui.store.sql import history as sql_history
from tracktui.store.sql import roots as sql_roots

MLFLOW_VIEW = {"active": 1, "deleted": 2, "all": 3}  # mlflow.entities.ViewType values
BIG = 1000

# -- normalisers: mlflow objects and tracktui objects to one comparable shape -----------------

TOP_LEVEL = "tags.`mlflow.parentRunId` IS NULL"


def _num(value):
    """NaN != NaN; compare it as a marker instead."""
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def mlflow_run(run) -> dict:
    info, data = run.info, run.data
    return {
        "id": info.run_id,
        "name": info.run_name,
        "experiment_id": str(info.experiment_id),
        "status": info.status,
        "user_id": info.user_id,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "lifecycle_stage": info.lifecycle_stage,
        "artifact_uri": info.artifact_uri,
        "parent_run_id": data.tags.get("mlflow.parentRunId"),
        "params": dict(data.params),
        "metrics": {m.key: (_num(m.value), m.step, m.timestamp) for m in data._metric_objs},
        "tags": dict(data.tags),
    }


def our_run(run) -> dict:
    return {
        "id": run.id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status,
        "user_id": run.user_id,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "lifecycle_stage": run.lifecycle_stage,
        "artifact_uri": run.artifact_uri,
        "parent_run_id": run.parent_run_id,
        "params": dict(run.params),
        "metrics": {k: (_num(p.value), p.step, p.timestamp) for k, p in run.metrics.items()},
        "tags": dict(run.tags),
    }


def mlflow_experiment(exp) -> dict:
    return {
        "id": str(exp.experiment_id),
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": dict(exp.tags),
    }


def our_experiment(exp) -> dict:
    return {
        "id": exp.id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": dict(exp.tags),
    }


def points(history) -> list[tuple]:
    return [(_num(p.value), p.step, p.timestamp) for p in history]


def expand(text: str, info) -> str:
    """Fill `<run:NAME>`, `<exp:NAME>` and `<t:MINUTES>` placeholders for this backend."""
    text = re.sub(r"<run:([^>]+)>", lambda m: info.runs[m.group(1)], text)
    text = re.sub(r"<exp:([^>]+)>", lambda m: info.experiments[m.group(1)], text)
    return re.sub(r"<t:([\d.]+)>", lambda m: str(T0 + int(float(m.group(1)) * MINUTE)), text)


def assert_same_runs(ours, theirs) -> None:
    """Same ids in the same order first (readable failure), then every field of every run."""
    assert [r.id for r in ours] == [r.info.run_id for r in theirs]
    for mine, ref in zip(ours, theirs):
        assert our_run(mine) == mlflow_run(ref), f"run {ref.info.run_name!r} differs"


def both_search_runs(store, client, experiment_ids, filter_string="", order_by=(), view="active"):
    ours = store.search_runs(
        experiment_ids, filter_string, order_by=list(order_by), view=view, max_results=BIG
    )
    theirs = client.search_runs(
        experiment_ids,
        filter_string,
        run_view_type=MLFLOW_VIEW[view],
        max_results=BIG,
        order_by=list(order_by),
    )
    assert ours.next_page_token is None
    return list(ours), list(theirs)


# -- the tables --------------------------------------------------------------------------------

RUN_FILTERS = [
    "",
    "metrics.loss < 0.4",
    "metrics.loss >= 0.3",
    "metrics.loss = 0.3",
    "metrics.loss != 0.3",  # NaN matches != (and only !=)
    "metrics.loss > 1e300",  # +inf (clamped or not)
    "metrics.loss < -1e300",  # -inf
    "metrics.loss <= 0.45 AND metrics.loss > 0.2",
    "metrics.`val/loss` <= 0.6",
    'metrics."eval.f1" > 0.5',
    "metrics.`train-acc` > 0.9",
    "metrics.`odd metric` = 1",
    "metrics.`system/cpu_utilization_percentage` >= 0",
    "metrics.accuracy > 0.5 AND metrics.loss < 0.4 AND params.lr != '0.1'",
    "params.lr = '0.01'",
    "params.lr != '0.01'",
    "params.optimizer = 'adam'",
    "params.optimizer != 'adam'",
    "params.optimizer LIKE 'ad%'",
    "params.optimizer ILIKE 'ADAM'",
    "params.optimizer LIKE '_dam'",
    "params.`batch size` = '32'",
    "params.`model/arch` LIKE '%resnet%'",
    "params.`data.version` = 'v1' AND params.`drop-out` = '0.1'",
    "params.`說明` = 'ünï'",
    "params.empty = ''",
    "params.long_value LIKE '0000:abc%'",
    "params.lr IS NULL",
    "params.optimizer IS NOT NULL",
    "params.LR IS NULL",  # key case: MySQL/MariaDB's collation ignores it for IS [NOT] NULL
    "params.OPTIMIZER IS NOT NULL",
    "tags.STAGE IS NOT NULL",
    "params.LR = '0.01'",  # ... and only there: other comparisons match keys exactly
    "tags.stage = 'prod'",
    "tags.stage ILIKE 'prod'",
    "tags.stage IS NULL",
    "tags.`tag with space` LIKE 'a%'",
    "tags.`mlflow.parentRunId` = '<run:parent>'",
    "tags.quoted LIKE '%\"quoted\"%'",
    "tags.emoji = '✨ ok'",
    "tags.`mlflow.note.content` ILIKE '%DESCRIPTION%'",
    "attributes.run_name = 'tuned lr'",
    "attributes.run_name LIKE 'child-%'",
    "attributes.run_name ILIKE 'tuned%'",
    f"run_name = '{UNICODE_RUN}'",
    "attributes.status = 'FINISHED'",
    "attributes.status != 'FINISHED'",
    "attributes.status LIKE 'F%'",
    "attributes.start_time > <t:5>",
    "attributes.start_time <= <t:9>",
    "attributes.start_time = <t:15>",
    "created >= <t:12>",
    "attributes.end_time > <t:20>",
    "attributes.run_id IN ('<run:baseline>', '<run:beta-1>', '<run:nan-loss>')",
    "attributes.run_id NOT IN ('<run:baseline>')",
    "attributes.run_id = '<run:parent>'",
    "attributes.user_id = 'alice'",
    "attributes.user_id LIKE '%a%' and metrics.loss > 0",
    "attributes.artifact_uri LIKE '%<run:baseline>%'",
]

KEY_CASE_FILTERS = {"params.LR IS NULL", "params.OPTIMIZER IS NOT NULL", "tags.STAGE IS NOT NULL", "params.LR = '0.01'"}

RUN_ORDERINGS = [
    ["metrics.loss DESC"],
    ["metrics.loss ASC"],
    ["metrics.loss"],
    ["metrics.`val/loss` DESC"],
    ["metrics.`eval.f1` DESC"],
    ["metrics.accuracy ASC", "params.lr DESC"],
    ["params.lr"],
    ["params.lr DESC"],
    ["params.`batch size` DESC"],
    ["params.optimizer ASC", "metrics.loss DESC"],
    ["tags.stage"],
    ["tags.stage DESC"],
    ["tags.`tag with space` ASC"],
    ["attributes.start_time ASC"],
    ["attributes.start_time DESC"],
    ["created"],
    ["attributes.run_name"],
    ["run_name DESC"],
    ["attributes.status ASC"],
    ["attributes.status DESC", "metrics.accuracy DESC"],
    ["attributes.end_time DESC"],
    ["attributes.end_time"],
    ["attributes.user_id", "metrics.loss DESC"],
    ["attributes.run_id"],
]


def _ids(text):
    return re.sub(r"[^\w.]+", "_", text)[:60]


# -- search_runs: filters, orderings, paging, views --------------------------------------------


@pytest.mark.parametrize("filter_template", RUN_FILTERS, ids=_ids)
def test_search_runs_filter_matches_mlflow(store, mlflow_client, info, filter_template):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    ours, theirs = both_search_runs(store, mlflow_client, exps, expand(filter_template, info))
    assert_same_runs(ours, theirs)


def test_filters_are_not_vacuous(mlflow_client, info):
    """Guard for the table itself: most filters select some but not all runs."""
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    total = len(mlflow_client.search_runs(exps, max_results=BIG))
    counts = [
        len(mlflow_client.search_runs(exps, expand(f, info), max_results=BIG))
        for f in RUN_FILTERS[1:]
        if f not in KEY_CASE_FILTERS  # all or nothing, except under MySQL's collation
    ]
    selective = [c for c in counts if 0 < c < total]
    assert len(selective) >= len(counts) - 3


@pytest.mark.parametrize("order_by", RUN_ORDERINGS, ids=lambda o: _ids(",".join(o)))
def test_search_runs_order_matches_mlflow(store, mlflow_client, info, order_by):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    ours, theirs = both_search_runs(store, mlflow_client, exps, order_by=order_by)
    assert_same_runs(ours, theirs)


@pytest.mark.parametrize(
    "filter_string, order_by",
    [
        ("metrics.loss < 1", ["metrics.loss DESC"]),
        ("params.optimizer ILIKE 'adam%'", ["params.lr ASC", "attributes.run_name DESC"]),
        ("attributes.status != 'RUNNING'", ["attributes.end_time ASC"]),
    ],
)
def test_search_runs_filter_and_order_match_mlflow(store, mlflow_client, info, filter_string, order_by):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    ours, theirs = both_search_runs(store, mlflow_client, exps, filter_string, order_by)
    assert_same_runs(ours, theirs)


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_search_runs_view_matches_mlflow(store, mlflow_client, info, view):
    exps = list(info.experiments.values())  # includes the deleted experiment
    ours, theirs = both_search_runs(store, mlflow_client, exps, view=view)
    assert_same_runs(ours, theirs)
    if view != "active":
        assert info.deleted_run in {r.id for r in ours}
    else:
        assert info.deleted_run not in {r.id for r in ours}


@pytest.mark.parametrize(
    "filter_string, order_by",
    [("", []), ("", ["metrics.loss DESC"]), ("params.lr != '0.5'", ["params.lr", "run_name"]),
     (TOP_LEVEL, []), (TOP_LEVEL, ["metrics.loss DESC"])],
)
def test_paging_by_three_equals_one_big_page(store, mlflow_client, info, filter_string, order_by):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    big = store.search_runs(exps, filter_string, order_by=order_by, max_results=BIG)
    walked, token, pages = [], None, 0
    while True:
        page = store.search_runs(
            exps, filter_string, order_by=order_by, max_results=3, page_token=token
        )
        assert len(page) <= 3
        walked.extend(page)
        pages += 1
        token = page.next_page_token
        if not token:
            break
        assert pages < 100, "page tokens do not advance"
    assert [r.id for r in walked] == [r.id for r in big]
    assert [our_run(r) for r in walked] == [our_run(r) for r in big]
    assert pages >= len(big) // 3
    theirs = mlflow_client.search_runs(exps, filter_string, max_results=BIG, order_by=order_by)
    assert [r.id for r in walked] == [r.info.run_id for r in theirs]


@pytest.mark.parametrize("page_size", [1, 2, 5])
def test_top_level_pages_read_in_small_batches_match_mlflow(store, mlflow_client, info, monkeypatch, page_size):
    """The tree's filter, with the SQL store's candidates read a few at a time (store/sql/roots.py:
    the children among them dropped, more read when too few remain): pages as MlflowClient's."""
    monkeypatch.setattr(sql_roots, "MIN_CANDIDATES", 1)
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    walked, token = [], None
    while True:
        page = store.search_runs(exps, TOP_LEVEL, order_by=["attributes.start_time ASC"], max_results=page_size,
                                 page_token=token)
        walked.extend(r.id for r in page)
        token = page.next_page_token
        if not token:
            break
    theirs = mlflow_client.search_runs(exps, TOP_LEVEL, max_results=BIG, order_by=["attributes.start_time ASC"])
    assert walked == [r.info.run_id for r in theirs]
    assert info.parent_run in walked and not set(info.child_runs) & set(walked)


def test_search_runs_max_results_limits_page(store, info):
    page = store.search_runs([info.experiments[ALPHA]], max_results=5)
    assert len(page) == 5
    assert page.next_page_token


@pytest.mark.parametrize("bad", [0, -1, True])
def test_search_runs_refuses_a_max_results_that_is_not_positive(store, info, bad):
    """Every backend alike (the REST store used to clamp 0 to 1 and ask the server)."""
    with pytest.raises(InvalidValue, match="max_results must be a positive integer"):
        store.search_runs([info.experiments[ALPHA]], max_results=bad)


def test_search_runs_at_mlflows_page_limit(store, mlflow_client, info):
    """50,000, MLflow's largest page, answers on every backend; more is refused as MLflow
    refuses it (test_contract_fidelity.py)."""
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    ours = store.search_runs(exps, max_results=50_000)
    theirs = mlflow_client.search_runs(exps, max_results=BIG)
    assert [r.id for r in ours] == [r.info.run_id for r in theirs]
    experiments = store.search_experiments(view="all", max_results=50_000)
    assert len(experiments) == len(mlflow_client.search_experiments(view_type=3, max_results=BIG))


def test_search_runs_in_empty_experiment(store, info):
    page = store.search_runs([info.experiments[EMPTY_EXP]])
    assert list(page) == [] and page.next_page_token is None


def test_include_keys_loads_only_chosen_keys(store, mlflow_client, info):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    keys = Keys(metrics=("loss", "val/loss"), params=("lr", "batch size"), tags=("stage",))
    ours = store.search_runs(exps, max_results=BIG, include_keys=keys)
    theirs = mlflow_client.search_runs(exps, max_results=BIG)
    assert [r.id for r in ours] == [r.info.run_id for r in theirs]
    for mine, ref in zip(ours, theirs):
        full, got = mlflow_run(ref), our_run(mine)
        assert got["params"] == {k: v for k, v in full["params"].items() if k in keys.params}
        assert got["metrics"] == {k: v for k, v in full["metrics"].items() if k in keys.metrics}
        assert got["tags"] == {k: v for k, v in full["tags"].items() if k in keys.tags}
        assert (got["name"], got["status"], got["start_time"]) == (
            full["name"], full["status"], full["start_time"],
        )


def test_include_keys_empty_loads_no_values(store, info):
    page = store.search_runs([info.experiments[ALPHA]], max_results=BIG, include_keys=Keys())
    assert len(page) > 0
    assert all(not r.params and not r.metrics and not r.tags for r in page)


# -- bad filters ----------------------------------------------------------------------------------

BAD_RUN_FILTERS = [
    "metrics.loss <",
    "metrics.loss < 'abc'",
    "params.lr = 0.1",
    "nosuchprefix.x = '1'",
    "metrics.loss > 1 OR metrics.loss < 0",
    "(metrics.loss > 1)",
    "params.lr == '0.1'",
    "attributes.status IN ('FINISHED')",
    "tags.stage = 'unterminated",
]


@pytest.mark.parametrize("bad", BAD_RUN_FILTERS, ids=_ids)
def test_bad_run_filter_raises_filter_syntax_error(store, mlflow_client, info, bad):
    import mlflow

    exps = [info.experiments[ALPHA]]
    with pytest.raises(mlflow.exceptions.MlflowException):  # the filter really is bad
        mlflow_client.search_runs(exps, bad)
    with pytest.raises(FilterSyntaxError) as caught:
        store.search_runs(exps, bad)
    err = caught.value
    assert err.text == bad
    assert 0 <= err.position <= len(bad)
    assert str(err.position) in str(err)


@pytest.mark.parametrize("bad", [["metrics.loss SIDEWAYS"], ["nosuch.x"], ["metrics.loss", "metrics.loss DESC"]])
def test_bad_order_by_raises_filter_syntax_error(store, info, bad):
    with pytest.raises(FilterSyntaxError):
        store.search_runs([info.experiments[ALPHA]], order_by=bad)


@pytest.mark.parametrize(
    "bad", ["name = ", "attributes.name = 'alpha'", "metrics.x > 1", "name = 'a' OR name = 'b'"]
)
def test_bad_experiment_filter_raises_filter_syntax_error(store, mlflow_client, bad):
    import mlflow

    with pytest.raises(mlflow.exceptions.MlflowException):  # the filter really is bad
        mlflow_client.search_experiments(filter_string=bad)
    with pytest.raises(FilterSyntaxError) as caught:
        store.search_experiments(bad)
    assert 0 <= caught.value.position <= len(bad)


# -- experiments --------------------------------------------------------------------------------

EXPERIMENT_FILTERS = [
    None,
    "name = 'alpha'",
    "name != 'beta'",
    "name LIKE 'a%'",
    "name ILIKE '%EXP%'",
    f"attribute.name = '{UNICODE_EXP}'",  # (mlflow rejects the plural for experiments)
    "tags.team = 'vision'",
    "tags.team ILIKE 'vision'",
    "tags.priority IS NULL",
    "tags.TEAM IS NOT NULL",  # MySQL/MariaDB: key matched through the collation, as MLflow does
    "tags.TEAM = 'vision'",
    "tags.`mlflow.note.content` LIKE '%baseline%'",
    "creation_time > 0",
    "experiment_id IN ('<exp:alpha>', '<exp:beta>')",
]
EXPERIMENT_ORDERS = [
    [], ["name"], ["name DESC"], ["experiment_id DESC"], ["last_update_time ASC", "name"],
    ["name DESC", "name"],  # MLflow accepts a repeated experiment key (not a repeated run key)
    ["creation_time", "name", "creation_time DESC"],
]


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
@pytest.mark.parametrize("filter_template", EXPERIMENT_FILTERS, ids=lambda f: _ids(f or "none"))
def test_search_experiments_matches_mlflow(store, mlflow_client, info, filter_template, view):
    flt = expand(filter_template, info) if filter_template else None
    ours = store.search_experiments(flt, view=view, max_results=BIG)
    theirs = mlflow_client.search_experiments(
        view_type=MLFLOW_VIEW[view], max_results=BIG, filter_string=flt
    )
    assert [e.id for e in ours] == [str(e.experiment_id) for e in theirs]
    assert [our_experiment(e) for e in ours] == [mlflow_experiment(e) for e in theirs]


@pytest.mark.parametrize("order_by", EXPERIMENT_ORDERS, ids=lambda o: _ids(",".join(o) or "default"))
def test_search_experiments_order_and_paging_match_mlflow(store, mlflow_client, order_by):
    theirs = mlflow_client.search_experiments(view_type=3, max_results=BIG, order_by=order_by)
    walked, token = [], None
    for _ in range(100):
        page = store.search_experiments(view="all", max_results=2, order_by=order_by, page_token=token)
        assert len(page) <= 2
        walked.extend(page)
        token = page.next_page_token
        if not token:
            break
    assert [e.id for e in walked] == [str(e.experiment_id) for e in theirs]


def test_get_experiment_matches_mlflow(store, mlflow_client, info):
    for name, eid in info.experiments.items():
        assert our_experiment(store.get_experiment(eid)) == mlflow_experiment(
            mlflow_client.get_experiment(eid)
        ), name
    assert store.get_experiment(info.deleted_experiment).lifecycle_stage == "deleted"


def test_get_experiment_missing_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get_experiment("987654321")


@pytest.mark.parametrize("name", [ALPHA, UNICODE_EXP, QUOTED_EXP, DELETED_EXP, "Default"])
def test_get_experiment_by_name_matches_mlflow(store, mlflow_client, name):
    ours = store.get_experiment_by_name(name)
    assert ours is not None
    assert our_experiment(ours) == mlflow_experiment(mlflow_client.get_experiment_by_name(name))


def test_get_experiment_by_name_missing_is_none(store):
    assert store.get_experiment_by_name("no such experiment") is None


@pytest.mark.parametrize("name", ["ALPHA", "Alpha", "DEFAULT"])
def test_get_experiment_by_name_in_another_case_as_mlflow(store, mlflow_client, name):
    """The database's collation decides, as in MLflow's SQL store: MySQL/MariaDB find `alpha`
    for `ALPHA`; SQLite, PostgreSQL, the file store and the server here do not."""
    theirs = mlflow_client.get_experiment_by_name(name)
    ours = store.get_experiment_by_name(name)
    assert (ours and ours.id) == (theirs and str(theirs.experiment_id))


# -- runs ---------------------------------------------------------------------------------------


def test_get_run_matches_mlflow_for_every_run(store, mlflow_client, info):
    for name, run_id in info.runs.items():
        assert our_run(store.get_run(run_id)) == mlflow_run(mlflow_client.get_run(run_id)), name


def test_get_run_keeps_fixture_specials(store, info):
    """Spot checks that do not depend on mlflow: the values planted in the fixtures survive."""
    from fixtures.data import LONG_PARAM_VALUE, QUOTED_TAG_VALUE

    baseline = store.get_run(info.runs["baseline"])
    assert baseline.tags["quoted"] == QUOTED_TAG_VALUE
    assert baseline.params["model/arch"] == "resnet-18"
    assert baseline.metrics["loss"].step == 2
    assert store.get_run(info.runs["long-param"]).params["long_value"] == LONG_PARAM_VALUE
    assert math.isnan(store.get_run(info.runs["nan-loss"]).metrics["loss"].value)
    assert store.get_run(info.runs["inf-loss"]).metrics["loss"].value > 1e300
    assert store.get_run(info.runs["neg-inf"]).metrics["loss"].value < -1e300
    out_of_order = store.get_run(info.runs["out-of-order"])
    assert (out_of_order.metrics["loss"].value, out_of_order.metrics["loss"].step) == (0.33, 5)
    assert out_of_order.metrics["accuracy"].value == 0.55
    assert store.get_run(info.runs[UNICODE_RUN]).name == UNICODE_RUN
    assert store.get_run(info.deleted_run).lifecycle_stage == "deleted"
    assert store.get_run(info.runs["child-1"]).parent_run_id == info.parent_run
    assert store.get_run(info.runs["scheduled"]).status == "SCHEDULED"
    assert store.get_run(info.runs["neg-inf"]).end_time is None


def test_get_run_missing_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get_run("0" * 32)


def test_get_child_runs(store, mlflow_client, info):
    children = store.get_child_runs(info.parent_run)
    assert sorted(r.id for r in children) == sorted(info.child_runs)
    theirs = mlflow_client.search_runs(
        [info.experiments[ALPHA]], f"tags.`mlflow.parentRunId` = '{info.parent_run}'", run_view_type=3
    )
    assert [r.id for r in children] == [r.info.run_id for r in theirs]
    assert store.get_child_runs(info.runs["baseline"]) == []


def test_list_keys_is_union_of_keys_seen_via_mlflow(store, mlflow_client, info):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    runs = mlflow_client.search_runs(exps, run_view_type=3, max_results=BIG)
    keys = store.list_keys(exps)
    assert keys.metrics == tuple(sorted({k for r in runs for k in r.data.metrics}))
    assert keys.params == tuple(sorted({k for r in runs for k in r.data.params}))
    assert keys.tags == tuple(sorted({k for r in runs for k in r.data.tags}))
    assert "system/cpu_utilization_percentage" in keys.metrics
    assert "bleu" in keys.metrics  # beta's keys count too


def test_list_keys_of_one_experiment(store, info):
    keys = store.list_keys([info.experiments[BETA]])
    assert "tokenizer" in keys.params and "batch size" not in keys.params


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_count_runs_matches_mlflow(store, mlflow_client, info, view):
    counts = {}
    for name, eid in info.experiments.items():
        expected = len(mlflow_client.search_runs([eid], run_view_type=MLFLOW_VIEW[view], max_results=BIG))
        assert store.count_runs(eid, view) == expected, name
        counts[eid] = expected
    assert store.count_runs_by_experiment(list(counts), view) == counts


@pytest.mark.parametrize("view", ["active", "all"])
def test_bounded_count_is_exact_up_to_the_bound_then_one_more(store, info, view, backend_kind):
    """`at_most=N`: the count when it is at most N, else N + 1 ("more than N"), on every
    backend alike (SQL and files count and cap; REST stops probing)."""
    exact = store.count_runs_by_experiment(list(info.experiments.values()), view)
    for name, eid in info.experiments.items():
        n = exact[eid]
        for at_most in sorted({0, 1, 2, 5, max(n - 1, 0), n, n + 1}):
            assert store.count_runs(eid, view, at_most=at_most) == min(n, at_most + 1), (name, at_most)
    for at_most in (0, 2, 10):
        assert store.count_runs_by_experiment(list(exact), view, at_most=at_most) == {
            eid: min(n, at_most + 1) for eid, n in exact.items()
        }
    assert store.counting_is_costly is (backend_kind == "rest")  # no count endpoint there


def test_bounded_count_refuses_a_negative_bound(store, info):
    eid = info.experiments[ALPHA]
    for call in (lambda: store.count_runs(eid, at_most=-1),
                 lambda: store.count_runs_by_experiment([eid], at_most=-1),
                 lambda: store.count_runs_by_experiment([], at_most=-1)):
        with pytest.raises(InvalidValue, match="at_most"):
            call()


# -- metric history -------------------------------------------------------------------------------


def _by_step(history):
    """A history in step order (what downsampling works on), whatever order the store gave."""
    return sorted(history, key=lambda p: (p.step, p.timestamp))


def test_metric_history_matches_mlflow_in_mlflows_order(store, mlflow_client, info):
    """The same points in the same order as MlflowClient: (timestamp, step, value) on the SQL
    stores and a server in front of one, the logged order on the file store."""
    for name in ["baseline", "nan-loss", "inf-loss", "neg-inf", "many-steps", "out-of-order", UNICODE_RUN]:
        run_id = info.runs[name]
        for key in mlflow_client.get_run(run_id).data.metrics:
            ours = points(store.get_metric_history(run_id, key))
            assert ours == points(mlflow_client.get_metric_history(run_id, key)), (name, key)


def test_downsampled_history_is_in_step_order(store, info):
    """With max_points (what plots ask for) the points come by step, even when they were
    logged out of step order."""
    run_id = info.runs["out-of-order"]
    for key in ("loss", "accuracy"):
        sampled = store.get_metric_history(run_id, key, max_points=1000)
        assert sampled == _by_step(store.get_metric_history(run_id, key))


def test_many_step_history_is_complete(store, info):
    history = store.get_metric_history(info.many_steps_run, info.many_steps_key)
    assert [p.step for p in history] == list(range(MANY_STEPS))


def test_metric_history_unknown_key_is_empty(store, info):
    assert store.get_metric_history(info.runs["baseline"], "no such metric") == []


def test_metric_history_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get_metric_history("0" * 32, "loss")


@pytest.mark.parametrize("max_points", [4, 10, 50, 100, 999])
def test_downsampled_history_keeps_extremes(store, info, max_points):
    full = points(store.get_metric_history(info.many_steps_run, info.many_steps_key))
    sampled = points(
        store.get_metric_history(info.many_steps_run, info.many_steps_key, max_points=max_points)
    )
    assert 0 < len(sampled) <= max_points
    assert set(sampled) <= set(full)  # real points, not interpolated ones
    assert [p[1] for p in sampled] == sorted(p[1] for p in sampled)
    values = {(p[1], p[0]) for p in sampled}
    assert MANY_STEPS_MAX in values and MANY_STEPS_MIN in values


@pytest.mark.parametrize("max_points", [MANY_STEPS, 5000])
def test_downsampling_a_short_history_returns_it_whole(store, info, max_points):
    full = _by_step(store.get_metric_history(info.many_steps_run, info.many_steps_key))
    assert store.get_metric_history(
        info.many_steps_run, info.many_steps_key, max_points=max_points
    ) == full


@pytest.mark.parametrize("max_points", [4, 101, 300, 999])
@pytest.mark.parametrize("parallel", [False, True], ids=["one-reader", "parallel-readers"])
def test_downsampled_history_is_the_reference_downsampling(store, info, max_points, parallel, monkeypatch):
    """Every backend keeps exactly the points store.downsample keeps from the full history
    (SQLite computes them in the database, long histories split over parallel connections)."""
    if parallel:
        monkeypatch.setattr(sql_history, "_PARALLEL_MIN_POINTS", 0)
    for run_id, key in [(info.many_steps_run, info.many_steps_key), (info.runs["nan-loss"], "loss")]:
        full = _by_step(store.get_metric_history(run_id, key))
        sampled = store.get_metric_history(run_id, key, max_points=max_points)
        assert points(sampled) == points(downsample_minmax(full, max_points))


@pytest.mark.parametrize("max_points", [2, 16, 101, 5000])
@pytest.mark.parametrize("short_limit", [sql_histories.SHORT_HISTORY, 0], ids=["one-query", "long-path"])
def test_histories_of_many_runs_are_each_runs_downsampled_history(store, info, max_points, short_limit, monkeypatch):
    """The sparkline batch gives every run what get_metric_history(max_points) gives it, an
    unknown run and a run without the key map to [] (SQL: short histories in one query,
    longer ones bucketed in the database; `short_limit` 0 sends every history the long way)."""
    monkeypatch.setattr(sql_histories, "SHORT_HISTORY", short_limit)
    unknown = "0" * 32
    for key in ("loss", info.many_steps_key):
        run_ids = [*info.runs.values(), info.many_steps_run, unknown]
        batch = store.get_metric_histories(run_ids, key, max_points)
        assert list(batch) == list(dict.fromkeys(run_ids))
        assert batch[unknown] == []
        for run_id in dict.fromkeys(run_ids[:-1]):
            assert points(batch[run_id]) == points(store.get_metric_history(run_id, key, max_points=max_points)), run_id
        assert any(batch.values()) and not all(batch.values())  # some runs have the key, some not


def test_histories_of_no_runs(store, info):
    assert store.get_metric_histories([], "loss", 16) == {}


def test_downsampled_history_with_nan(store, info):
    full = points(store.get_metric_history(info.runs["nan-loss"], "loss"))
    sampled = points(store.get_metric_history(info.runs["nan-loss"], "loss", max_points=2))
    assert 0 < len(sampled) <= 2
    assert all(p in full for p in sampled)


# -- random conjunctions: the grammar's semantics, differential ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_METRIC_KEYS = ["loss", "accuracy", "val/loss", "eval.f1", "bleu", "odd metric", "train-acc"]
_METRIC_VALUES = ["0", "0.3", "0.4", "0.5", "0.9", "1", "2", "-1", "1e300", "-1e300", "0.45"]
_PARAM_KEYS = ["lr", "optimizer", "batch size", "tokenizer", "empty", "model/arch"]
_TAG_KEYS = ["stage", "mlflow.user", "emoji", "tag with space", "mlflow.runName", "quoted"]
_STRINGS = ["0.01", "adam", "Adam", "%a%", "_dam", "32", "", "0.1%", "prod", "%", "alice", "b%"]
_STRING_OPS = ["=", "!=", "LIKE", "ILIKE"]
_NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">="]


def _quote_key(key):
    return f"`{key}`"


_metric_clause = st.builds(
    lambda k, op, v: f"metrics.{_quote_key(k)} {op} {v}",
    st.sampled_from(_METRIC_KEYS), st.sampled_from(_NUMERIC_OPS), st.sampled_from(_METRIC_VALUES),
)
_string_clause = st.builds(
    lambda prefix, k, op, v: f"{prefix}.{_quote_key(k)} {op} '{v}'",
    st.sampled_from(["params", "tags"]),
    st.sampled_from(_PARAM_KEYS + _TAG_KEYS),
    st.sampled_from(_STRING_OPS),
    st.sampled_from(_STRINGS),
)
_null_clause = st.builds(
    lambda prefix, k, op: f"{prefix}.{_quote_key(k)} {op}",
    st.sampled_from(["params", "tags"]),
    st.sampled_from(_PARAM_KEYS + _TAG_KEYS),
    st.sampled_from(["IS NULL", "IS NOT NULL"]),
)
_attribute_clause = st.one_of(
    st.builds(
        lambda k, op, v: f"attributes.{k} {op} '{v}'",
        st.sampled_from(["run_name", "status", "user_id"]),
        st.sampled_from(_STRING_OPS),
        st.sampled_from(["FINISHED", "%ED", "f%", "alice", "%a%", "tuned lr", "child-_", "%"]),
    ),
    st.builds(
        lambda k, op, minutes: f"attributes.{k} {op} {T0 + minutes * MINUTE}",
        st.sampled_from(["start_time", "end_time"]),
        st.sampled_from(_NUMERIC_OPS),
        st.sampled_from([0, 3, 9, 15, 20, 60]),
    ),
)
_clause = st.one_of(_metric_clause, _string_clause, _null_clause, _attribute_clause)
_ORDER_KEYS = [
    "metrics.loss", "metrics.accuracy", "metrics.`val/loss`", "params.lr", "params.optimizer",
    "tags.stage", "attributes.start_time", "attributes.end_time", "attributes.run_name",
    "attributes.status", "attributes.user_id",
]
_order = st.lists(
    st.tuples(st.sampled_from(_ORDER_KEYS), st.sampled_from(["", " ASC", " DESC"])),
    max_size=2,
    unique_by=lambda t: t[0],
).map(lambda items: [key + direction for key, direction in items])


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(clauses=st.lists(_clause, min_size=1, max_size=3), order_by=_order)
def test_random_filters_and_orders_match_mlflow(store, mlflow_client, info, clauses, order_by):
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    filter_string = " AND ".join(clauses)
    ours = store.search_runs(exps, filter_string, order_by=order_by, max_results=BIG)
    theirs = mlflow_client.search_runs(exps, filter_string, max_results=BIG, order_by=order_by)
    assert [r.id for r in ours] == [r.info.run_id for r in theirs], (filter_string, order_by)


def test_include_keys_does_not_change_filtering_or_order(store, mlflow_client, info):
    """Filtering and sorting by keys that are not loaded still works."""
    exps = [info.experiments[ALPHA], info.experiments[BETA]]
    flt, order = "metrics.accuracy > 0.5 AND params.optimizer != 'sgd'", ["metrics.loss DESC"]
    ours = store.search_runs(exps, flt, order_by=order, max_results=BIG, include_keys=Keys(tags=("stage",)))
    theirs = mlflow_client.search_runs(exps, flt, max_results=BIG, order_by=order)
    assert [r.id for r in ours] == [r.info.run_id for r in theirs]
    assert all(not r.metrics and not r.params for r in ours)


def test_search_runs_with_unknown_experiment_id(store, mlflow_client, info):
    ours = store.search_runs([info.experiments[BETA], "987654321"], max_results=BIG)
    theirs = mlflow_client.search_runs([info.experiments[BETA], "987654321"], max_results=BIG)
    assert [r.id for r in ours] == [r.info.run_id for r in theirs]


# -- the recent tail of a history (what the watch board reads) -------------------------------


@pytest.mark.parametrize("n", [1, 3, 10, MANY_STEPS, MANY_STEPS + 5])
def test_metric_tail_is_the_end_of_the_history_in_step_order(store, info, n):
    for run_id, key in [(info.many_steps_run, info.many_steps_key), (info.runs["nan-loss"], "loss")]:
        full = _by_step(store.get_metric_history(run_id, key))
        assert points(store.get_metric_tail(run_id, key, n)) == points(full[-n:]), (key, n)
        hinted = store.get_metric_tail(run_id, key, n, last_step=full[-1].step)
        assert points(hinted) == points(full[-n:]), (key, n, "last_step")


def test_metric_tail_of_nothing(store, info):
    run_id = info.runs["baseline"]
    assert store.get_metric_tail(run_id, "no such metric", 5) == []
    assert store.get_metric_tail(run_id, "loss", 0) == []


@pytest.mark.parametrize("n", [1, 10, MANY_STEPS + 5])
def test_metric_tails_are_each_runs_tail_in_one_call(store, info, n):
    """What the watch board reads: every pair as get_metric_tail gives it; an unknown run or
    key is [] instead of failing the board."""
    pairs = [(info.many_steps_run, info.many_steps_key), (info.runs["nan-loss"], "loss"),
             (info.runs["baseline"], "no such metric"), ("0" * 32, "loss")]
    tails = store.get_metric_tails([(run_id, key, None) for run_id, key in pairs], n)
    assert set(tails) == set(pairs)
    for run_id, key in pairs[:2]:
        assert points(tails[run_id, key]) == points(store.get_metric_tail(run_id, key, n)), (key, n)
    assert tails[pairs[2]] == [] and tails[pairs[3]] == []


def test_metric_tail_unknown_run_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get_metric_tail("0" * 32, "loss", 5)
