"""What the call flow needs from config.yaml, as immutable dataclasses.

`ivr.config` parses and validates the file; this package only reads these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("ko", "en")


@dataclass(frozen=True)
class Language:
    code: str  # "ko" or "en"
    locale: str  # Twilio <Say>/<Gather> language, e.g. "ko-KR"
    voice: str  # a Twilio voice valid for that locale, e.g. "Polly.Seoyeon"


@dataclass(frozen=True)
class MenuOption:
    """A technical field or a support type: what the caller picks by digit or speech."""

    key: str
    digit: str
    names: dict[str, str]  # language code -> spoken name
    hints: tuple[str, ...] = ()  # speech recognition hints and synonyms
    description: dict[str, str] = field(default_factory=dict)  # optional longer text

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["ko"]

    def __hash__(self) -> int:
        # Options never change once loaded, but `names` is a dict, which the generated hash refuses;
        # hashable options let the menus built from them be computed once (callflows.questions).
        # Dicts compare without regard to order, so their items are hashed as frozensets, as __eq__ sees them.
        names, description = frozenset(self.names.items()), frozenset(self.description.items())
        return hash((self.key, self.digit, names, self.hints, description))


@dataclass(frozen=True)
class FlowConfig:
    hotline_number: str  # E.164
    languages: dict[str, Language]
    fields: tuple[MenuOption, ...]
    support_types: tuple[MenuOption, ...]
    default_language: str = "ko"
    recording_max_seconds: int = 120
    max_failures: int = 3  # failed inputs at one step before the flow moves on with a default
    gather_timeout_seconds: int = 6
    promise_days: int = 3  # "an expert calls back within N days"
    # config.yaml's wording of callflows.prompts.EDITABLE texts: key -> language -> text
    texts: dict[str, dict[str, str]] = field(default_factory=dict)

    def field_by_key(self, key: str) -> MenuOption | None:
        return next((o for o in self.fields if o.key == key), None)

    def support_type_by_key(self, key: str) -> MenuOption | None:
        return next((o for o in self.support_types if o.key == key), None)
