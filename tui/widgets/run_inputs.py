"""RunInputsList: what a run consumed and produced — its dataset inputs (name, digest, context,
source) and the logged models it used or produced — one line each; Enter opens one.

Displays only: the overview hands it the run (`show_run`). Enter posts `OpenDataset` or
`OpenModel`; the screen decides how to open them. Every line is built from store text with
`plain` (never markup).
"""

from __future__ import annotations

import json

from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tracktui.store.model import Dataset, DatasetInput, Run

from ..safe_text import plain
from .run_format import MISSING

#: Keys of a source's JSON that say where the data is, most telling first.
_LOCATION_KEYS = ("uri", "url", "path", "table_name", "delta_table_name", "sql", "hf_dataset_name")


class RunInputsList(OptionList):
    """Dataset inputs, then model inputs and outputs; Enter opens the highlighted one."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="run_inputs.cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="run_inputs.cursor_up"),
    ]

    class OpenDataset(Message):
        def __init__(self, item: DatasetInput) -> None:
            super().__init__()
            self.item = item

    class OpenModel(Message):
        """A logged model the run used (`produced` False) or produced (at `step`)."""

        def __init__(self, model_id: str, produced: bool, step: int | None) -> None:
            super().__init__()
            self.model_id = model_id
            self.produced = produced
            self.step = step

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: list[DatasetInput | tuple[str, bool, int | None]] = []

    def show_run(self, run: Run) -> None:
        self.clear_options()
        self._entries = []
        datasets = run.inputs.dataset_inputs
        widths = (
            min(24, max((len(i.dataset.name) for i in datasets), default=0)),
            min(12, max((len(i.context or MISSING) for i in datasets), default=0)),
        )
        for item in datasets:
            self._entries.append(item)
            self._add_line(dataset_line(item, *widths))
        for model in run.inputs.model_inputs:
            self._entries.append((model.model_id, False, None))
            self._add_line(f"model in   {model.model_id}")
        for output in run.outputs.model_outputs:
            self._entries.append((output.model_id, True, output.step))
            self._add_line(f"model out  {output.model_id}  step {output.step}")
        if self.option_count:
            self.highlighted = 0

    def _add_line(self, text: str) -> None:
        # one line per entry, cut at the edge: the whole entry opens with Enter
        self.add_option(Option(plain(text, no_wrap=True, overflow="ellipsis")))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self._entries[event.option_index]
        if isinstance(entry, DatasetInput):
            self.post_message(self.OpenDataset(entry))
        else:
            self.post_message(self.OpenModel(*entry))


def dataset_line(item: DatasetInput, name_width: int = 0, context_width: int = 0) -> str:
    """`name  digest  context  source` for one dataset input, padded to the given widths."""
    ds = item.dataset
    return f"{ds.name:<{name_width}}  {ds.digest}  {item.context or MISSING:<{context_width}}  {source_text(ds)}"


def source_text(dataset: Dataset) -> str:
    """Where the data is: `<type>: <uri/url/path…>` from the source JSON, or its raw text."""
    location = dataset.source
    try:
        decoded = json.loads(dataset.source)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        location = next((str(decoded[k]) for k in _LOCATION_KEYS if decoded.get(k)), dataset.source)
    return f"{dataset.source_type}: {location}" if dataset.source_type else location
