"""The `[replies]` section: tuning of reply classification.

Admins add phrases their prospects use (per language and intent) on top of the built-in
tables; a phrase is plain text, matched case-, accent- and spacing-insensitively on whole
words, never a regular expression (a typo must not be able to match everything).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.model import Intent
from syncd.replies.lexicon.registry import Language

ALL_LANGUAGES: tuple[Language, ...] = ("en", "de", "fr", "es", "nl", "it", "pt")


class RepliesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # Languages whose phrases are used. Opt-out phrases of every supported language are
    # always applied, whatever this says: a missed opt-out is a legal problem.
    languages: tuple[Language, ...] = ALL_LANGUAGES
    # Extra phrases per language and intent, e.g. [replies.phrases.en] opt_out = ["take me off"].
    phrases: dict[Language, dict[Intent, tuple[str, ...]]] = Field(default_factory=dict)
    # Extra subject openings that mark an automatic reply, e.g. ["Ticket received"].
    auto_reply_subjects: tuple[str, ...] = ()
    # A stated timing further out than this many days turns a positive reply into not_now
    # ("let's talk in March"); a nearer one ("next Tuesday") is just the meeting date.
    deferral_min_days: int = Field(default=30, ge=0, le=365)
    # Only this many characters of a text/plain body are read (an HTML-only body: twice as
    # many, markup included). A reply's new text sits at the top; a pasted log file or a
    # thread quoted a hundred times must not stall a cycle. A cut is noted in the evidence.
    max_body_chars: int = Field(default=10_000, ge=1_000, le=10_000_000)
    # Of the prospect's new text, only this many characters are classified (cut noted too).
    max_text_chars: int = Field(default=4_000, ge=500, le=1_000_000)
    # A confidence (0..1) below this sends the reply to a person.
    review_below: float = Field(default=0.6, ge=0.0, le=1.0)
    # The learned model's share of the confidence (the rules have the rest).
    model_share: float = Field(default=0.4, ge=0.0, le=1.0)
    # The learned model disagrees when it gives another intent at least this probability
    # (opt_out: half of it).
    model_disagrees: float = Field(default=0.75, ge=0.0, le=1.0)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[Language, ...]) -> tuple[Language, ...]:
        if not value:
            raise ValueError("at least one language is needed")
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("phrases")
    @classmethod
    def _phrases(
        cls, value: dict[Language, dict[Intent, tuple[str, ...]]]
    ) -> dict[Language, dict[Intent, tuple[str, ...]]]:
        for language, table in value.items():
            if Intent.OTHER in table:
                raise ValueError(
                    f"{language}.other: 'other' is what remains when nothing else matches; "
                    "it takes no phrases"
                )
            for intent, phrases in table.items():
                for phrase in phrases:
                    if not phrase.strip():
                        raise ValueError(f"{language}.{intent.value}: empty phrase")
                    if len(phrase) > 200:
                        raise ValueError(f"{language}.{intent.value}: phrase over 200 characters")
        return value

    @field_validator("auto_reply_subjects")
    @classmethod
    def _subjects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s.strip() for s in value):
            raise ValueError("empty subject opening")
        return value

    @model_validator(mode="after")
    def _phrases_for_enabled_languages(self) -> RepliesConfig:
        unused = sorted(set(self.phrases) - set(self.languages))
        if unused:
            raise ValueError(
                f"phrases given for {', '.join(unused)}, which is not in languages "
                f"({', '.join(self.languages)})"
            )
        return self
