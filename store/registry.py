"""The model registry and the prompt registry, as values the store layer hands upward.

MLflow keeps both in the same tables (SQL), folders (file store) and endpoints (REST): a prompt
is a registered model tagged `mlflow.prompt.is_prompt = "true"`, and a prompt version is a
model version whose tag `mlflow.prompt.text` holds the template (docs/formats.md §8). The store
protocol splits them as MlflowClient does: the model searches leave prompts out, the prompt
calls see only prompts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

#: The registered-model tag marking a prompt, and its value.
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
#: The model-version tag holding a prompt version's template (JSON text for a chat prompt).
PROMPT_TEXT_TAG = "mlflow.prompt.text"
#: "text" or "chat".
PROMPT_TYPE_TAG = "_mlflow_prompt_type"
#: JSON text of the model configuration saved with a prompt version.
PROMPT_MODEL_CONFIG_TAG = "_mlflow_prompt_model_config"
#: JSON text of the response format saved with a prompt version.
PROMPT_RESPONSE_FORMAT_TAG = "_mlflow_prompt_response_format"
#: The experiments a prompt was registered or used in, comma-wrapped (",0,3,"); MLflow's own.
PROMPT_EXPERIMENT_IDS_TAG = "_mlflow_experiment_ids"
#: Tags the prompt registry writes for itself; a prompt's user tags are the others.
PROMPT_SYSTEM_TAGS = frozenset({
    IS_PROMPT_TAG, PROMPT_TEXT_TAG, PROMPT_TYPE_TAG, PROMPT_MODEL_CONFIG_TAG, PROMPT_RESPONSE_FORMAT_TAG,
    PROMPT_EXPERIMENT_IDS_TAG,
})
#: A version's source naming an MLflow 3 logged model (`models:/m-<32 hex>`).
LOGGED_MODEL_SOURCE = re.compile(r"models:/(m-[0-9a-f]{32})/?")

#: Model version stages (deprecated in MLflow, still recorded and searchable).
STAGES: tuple[str, ...] = ("None", "Staging", "Production", "Archived")

#: `{{ name }}` or `{{ a.b }}` in a prompt template, as MLflow finds variables.
TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model (MlflowClient's `ModelVersion`). `version` is the
    number as text, as MLflow hands it out; `model_id` is the MLflow 3 logged model it was
    made from, when recorded."""

    name: str
    version: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = "None"
    source: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status: str = "READY"
    status_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    model_id: str | None = None

    @property
    def uri(self) -> str:
        """`models:/name/3`, what `mlflow.pyfunc.load_model` takes."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A registered model (MlflowClient's `RegisteredModel`): `aliases` maps each alias to
    its version; `latest_versions` holds the latest version per stage, as MLflow reports it."""

    name: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    latest_versions: tuple[ModelVersion, ...] = ()

    @property
    def latest_version(self) -> str | None:
        """The highest version number among `latest_versions`, or None for no versions."""
        if not self.latest_versions:
            return None
        return max((v.version for v in self.latest_versions), key=int)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt of the prompt registry. `tags` are the user's (prompt-registry tags removed);
    `latest_version` is the highest version number, None for a prompt without versions."""

    name: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    latest_version: str | None = None


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One version of a prompt. `template` is the text as stored (a chat prompt's messages
    are JSON text); `commit_message` is the version's description; `model_config` and
    `response_format` are JSON text or None; `tags` are the user's."""

    name: str
    version: str
    template: str
    prompt_type: str = "text"
    commit_message: str | None = None
    model_config: str | None = None
    response_format: str | None = None
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    user_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """The template's `{{ variables }}`, each once, in order of first use."""
        return tuple(dict.fromkeys(TEMPLATE_VARIABLE.findall(self.template)))

    @property
    def uri(self) -> str:
        """`prompts:/name/3`, what `mlflow.genai.load_prompt` takes."""
        return f"prompts:/{self.name}/{self.version}"


def model_id_from_source(source: str | None) -> str | None:
    """The logged model a `models:/m-…` source names. MLflow's SQL tables keep no model id
    (its file store and REST answers carry one), so this is how those stores find it."""
    match = LOGGED_MODEL_SOURCE.fullmatch(source or "")
    return match.group(1) if match else None


def is_prompt(tags: Mapping[str, str]) -> bool:
    """True for a registered model's tags marking it a prompt (MLflow compares the text)."""
    return tags.get(IS_PROMPT_TAG, "").lower() == "true"


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags without the prompt registry's own."""
    return {k: v for k, v in tags.items() if k not in PROMPT_SYSTEM_TAGS}


def prompt_from_model(model: RegisteredModel) -> Prompt:
    """The prompt a prompt-tagged registered model stands for (backends read models, then
    map)."""
    return Prompt(
        name=model.name, creation_timestamp=model.creation_timestamp,
        last_updated_timestamp=model.last_updated_timestamp, description=model.description,
        tags=user_tags(model.tags), aliases=dict(model.aliases), latest_version=model.latest_version,
    )


def prompt_version_from_model_version(version: ModelVersion) -> PromptVersion:
    """The prompt version a model version of a prompt stands for."""
    tags = version.tags
    return PromptVersion(
        name=version.name, version=version.version, template=tags.get(PROMPT_TEXT_TAG, ""),
        prompt_type=tags.get(PROMPT_TYPE_TAG, "text"), commit_message=version.description,
        model_config=tags.get(PROMPT_MODEL_CONFIG_TAG), response_format=tags.get(PROMPT_RESPONSE_FORMAT_TAG),
        creation_timestamp=version.creation_timestamp, last_updated_timestamp=version.last_updated_timestamp,
        user_id=version.user_id, tags=user_tags(tags), aliases=version.aliases,
    )


@dataclass(frozen=True, slots=True)
class RegistryImport:
    """What `Store.import_registered_model` did: the model's name here, whether the model was
    created now (False: it was here, only missing versions and aliases were added), each
    version written now (its number there → its number here), and what could not be kept."""

    name: str
    created: bool
    versions: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
