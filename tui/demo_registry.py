"""The demo store's registry: the BERT runs registered as versions of `bert-sentiment` (the
latest good one `@champion`, the newest `@challenger`, an older one Archived), and two prompts
with versions that differ by a few words, so `M` and `P` have something to show.

Written with `Store.import_registered_model`, the one registry call that sets times, so the
demo is the same every time it is built from the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tracktui.store.base import Store
from tracktui.store.registry import (
    IS_PROMPT_TAG,
    PROMPT_MODEL_CONFIG_TAG,
    PROMPT_TEXT_TAG,
    PROMPT_TYPE_TAG,
    ModelVersion,
    RegisteredModel,
)

_MINUTE = 60_000

_PROMPTS: dict[str, tuple[str, list[tuple[str, str, str | None]], dict[str, int]]] = {
    "review-summary": (
        "Summarises a product review for the weekly digest.",
        [("Summarize this review in {{ num_sentences }} sentences:\n\n{{ review }}", "first draft", None),
         ("Summarize this customer review in {{ num_sentences }} short sentences for {{ audience }}, "
          "keeping the reviewer's sentiment:\n\n{{ review }}", "name the audience, keep sentiment",
          json.dumps({"model_name": "gpt-4o-mini", "temperature": 0.2}))],
        {"production": 2},
    ),
    "sentiment-judge": (
        "LLM judge for the BERT evaluation traces.",
        [(json.dumps([{"role": "system", "content": "You grade sentiment labels. Answer yes or no."},
                      {"role": "user", "content": "Text: {{ text }}\nLabel: {{ label }}\nIs the label right?"}]),
          "chat judge", None)],
        {},
    ),
}


def write_demo_registry(store: Store, run_ids: Sequence[str], artifact_uris: dict[str, str | None],
                        start_ms: int) -> int:
    """Register `run_ids` (oldest first) as versions of `bert-sentiment` and add the demo
    prompts, from `start_ms` on; returns how many models and prompts were written."""
    if not store.supports_model_registry or not run_ids:
        return 0
    versions = []
    for number, run_id in enumerate(run_ids, 1):
        at = start_ms + number * 30 * _MINUTE
        stage = "Archived" if number == 1 else ("Production" if number == len(run_ids) - 1 else "None")
        source = f"{artifact_uris.get(run_id) or 'runs:/' + run_id}/model"
        versions.append(ModelVersion(
            name="bert-sentiment", version=str(number), creation_timestamp=at, last_updated_timestamp=at,
            description="fine-tuned on the full review set" if number == len(run_ids) else None,
            user_id="ana", current_stage=stage, source=source, run_id=run_id, status="READY",
            tags={"validated": "yes"} if number < len(run_ids) else {},
        ))
    aliases = {"champion": str(max(1, len(run_ids) - 1)), "challenger": str(len(run_ids))}
    store.import_registered_model(RegisteredModel(
        name="bert-sentiment", creation_timestamp=start_ms, last_updated_timestamp=versions[-1].creation_timestamp,
        description="Review sentiment classifier (BERT-base).\n\nPromote with the `champion` alias.",
        tags={"team": "nlp", "task": "sentiment"}, aliases=aliases), versions)
    written = 1
    for offset, (name, (description, texts, prompt_aliases)) in enumerate(_PROMPTS.items(), 1):
        base = start_ms + offset * 3 * 60 * _MINUTE
        prompt_versions = []
        for number, (template, message, config) in enumerate(texts, 1):
            tags = {IS_PROMPT_TAG: "true", PROMPT_TEXT_TAG: template,
                    PROMPT_TYPE_TAG: "chat" if template.startswith("[") else "text"}
            if config:
                tags[PROMPT_MODEL_CONFIG_TAG] = config
            at = base + number * 20 * _MINUTE
            prompt_versions.append(ModelVersion(
                name=name, version=str(number), creation_timestamp=at, last_updated_timestamp=at,
                description=message, user_id="ana", source="prompt-template", tags=tags))
        store.import_registered_model(RegisteredModel(
            name=name, creation_timestamp=base, last_updated_timestamp=prompt_versions[-1].creation_timestamp,
            description=description, tags={IS_PROMPT_TAG: "true", "owner": "ana"},
            aliases={a: str(v) for a, v in prompt_aliases.items()}), prompt_versions)
        written += 1
    return written
