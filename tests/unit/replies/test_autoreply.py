"""Auto-reply detection from headers and subject openings."""

from __future__ import annotations

import pytest

from syncd.replies import is_auto_reply
from syncd.replies.autoreply import auto_reply_evidence, strip_reply_prefixes

EXCHANGE_LOOP = {"X-MS-Exchange-Inbox-Rules-Loop": "pat@prospect.example"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Auto-Submitted": "auto-replied; vacation"},
        {"auto-submitted": "auto-notified"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"precedence": "Junk"},
        {"X-Auto-Response-Suppress": "All", **EXCHANGE_LOOP},
        {
            "X-Auto-Response-Suppress": "DR, RN, NRN, OOF, AutoReply",
            "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent",
        },
    ],
)
def test_automation_headers_mark_an_auto_reply(headers: dict[str, str]) -> None:
    """Any of the RFC 3834 / de-facto automation headers marks the mail as machine-sent."""
    assert is_auto_reply(headers, "Re: Stock counts")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Auto-Submitted": "no"},
        {"Precedence": "list"},
        {"X-Autoreply": "no"},
        {"X-Auto-Response-Suppress": "All"},  # sent by ordinary clients too
        {"X-MS-Exchange-Inbox-Rules-Loop": "pat@prospect.example"},
    ],
)
def test_a_person_s_reply_is_not_an_auto_reply(headers: dict[str, str]) -> None:
    """Headers that ordinary replies carry do not make them automatic."""
    assert not is_auto_reply(headers, "Re: Stock counts")


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Stock counts",
        "Auto-Reply: Stock counts",
        "Out of Office: Re: Stock counts",
        "[Out of Office] Stock counts",
        "Automatische Antwort: Stock counts",
        "Abwesenheitsnotiz: Stock counts",
        "Réponse automatique : Stock counts",
        "Absence du bureau",
        "Respuesta automática: Stock counts",
        "Fuera de la oficina: Stock counts",
        "Undeliverable: Stock counts",
    ],
)
def test_auto_reply_subjects_in_four_languages(subject: str) -> None:
    """Subject openings of out-of-office and delivery notices are recognised without headers."""
    assert is_auto_reply({}, subject)


def test_only_the_subject_opening_counts() -> None:
    """A person replying to a pitch titled "Out of office tools" is not a machine."""
    assert not is_auto_reply({}, "Re: Out of office tools for retail")


def test_configured_subject_openings_are_recognised() -> None:
    """Admins can add openings their prospects' ticket systems use."""
    assert auto_reply_evidence({}, "Ticket received #4711", ["Ticket received"]) is not None
    assert auto_reply_evidence({}, "Ticket received #4711") is None


def test_evidence_names_the_header() -> None:
    """The reason given is the header that decided, for the audit trail."""
    evidence = auto_reply_evidence({"X-Autoreply": "yes"}, "Hi")
    assert evidence == "x-autoreply: yes"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Stock counts", "Stock counts"),
        ("AW: WG: Inventur", "Inventur"),
        ("RE: Re: unsubscribe", "unsubscribe"),
        ("Réf : Inventaire", "Inventaire"),
        ("RV: Inventario", "Inventario"),
        ("Stock counts", "Stock counts"),
    ],
)
def test_reply_prefixes_are_stripped(subject: str, expected: str) -> None:
    """Reply and forward prefixes in four languages are removed from a subject."""
    assert strip_reply_prefixes(subject).strip() == expected
