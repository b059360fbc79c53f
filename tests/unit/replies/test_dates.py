"""Stated timing and out-of-office return dates, resolved against the reply's own date."""

from __future__ import annotations

from datetime import date

import pytest

from syncd.replies.dates import DateFinder
from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.text import folded

SENT = date(2026, 10, 8)  # a Thursday
FINDER = DateFinder(list(LEXICONS.values()))


def followup(text: str, language: str = "en", sent: date = SENT) -> date | None:
    days = [t.day for t in FINDER.timings(folded(text), sent, language) if t.day is not None]
    return max(days, default=None)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "Reach back out in February.", date(2027, 2, 1)),
        ("en", "Circle back in about three months.", date(2027, 1, 8)),
        ("en", "Next year would be better.", date(2027, 1, 1)),
        ("en", "Try us next quarter.", date(2027, 1, 1)),
        ("en", "Ping me in six months.", date(2027, 4, 8)),
        ("en", "Let's talk after our audit in March.", date(2027, 3, 1)),
        ("en", "January.", date(2027, 1, 1)),
        ("en", "Please reach out in September.", date(2027, 9, 1)),
        ("en", "We can't look at it until after our busy season ends in May.", date(2027, 5, 1)),
        ("en", "After the holidays maybe.", date(2027, 1, 1)),
        ("en", "Check back in 2 weeks.", date(2026, 10, 22)),
        ("en", "Try me again in Q2.", date(2027, 4, 1)),
        ("en", "After Q1 works better.", date(2027, 4, 1)),
        ("en", "Mid-March would be ideal.", date(2027, 3, 15)),
        ("en", "Early next year.", date(2027, 1, 1)),
        ("en", "Mid next year.", date(2027, 7, 1)),
        ("en", "In the spring.", date(2027, 3, 1)),
        ("en", "Reach out after March 15.", date(2027, 3, 15)),
        ("en", "Next month is fine.", date(2026, 11, 1)),
        ("en", "A year from now.", date(2027, 10, 8)),
        ("de", "Melden Sie sich bitte in sechs Monaten noch einmal.", date(2027, 4, 8)),
        ("de", "Bitte im nächsten Quartal wieder.", date(2027, 1, 1)),
        ("de", "Gerne nach dem ersten Quartal.", date(2027, 4, 1)),
        ("de", "Nach unserem Audit im März.", date(2027, 3, 1)),
        ("de", "Anfang nächsten Jahres.", date(2027, 1, 1)),
        ("de", "Nach den Feiertagen.", date(2027, 1, 1)),
        ("de", "Am 15. Januar passt es.", date(2027, 1, 15)),
        ("de", "Ab dem 15.01.2027.", date(2027, 1, 15)),
        ("de", "Naechstes Jahr vielleicht.", date(2027, 1, 1)),
        ("fr", "Recontactez-moi dans six mois.", date(2027, 4, 8)),
        ("fr", "L'année prochaine.", date(2027, 1, 1)),
        ("fr", "Au prochain trimestre.", date(2027, 1, 1)),
        ("fr", "Après notre audit en mars.", date(2027, 3, 1)),
        ("fr", "Fin mars.", date(2027, 3, 31)),
        ("fr", "À partir d'avril.", date(2027, 4, 1)),
        ("fr", "À la rentrée.", date(2027, 9, 1)),
        ("es", "Escríbame dentro de seis meses.", date(2027, 4, 8)),
        ("es", "El año que viene.", date(2027, 1, 1)),
        ("es", "El próximo trimestre.", date(2027, 1, 1)),
        ("es", "Después de nuestra auditoría en marzo.", date(2027, 3, 1)),
        ("es", "A finales de marzo.", date(2027, 3, 31)),
        ("es", "Después de las fiestas.", date(2027, 1, 1)),
        ("es", "El 15 de enero.", date(2027, 1, 15)),
    ],
)
def test_stated_timing_resolves_to_a_followup_date(
    language: str, text: str, expected: date
) -> None:
    """Each stated timing gives the date the follow-up may happen, relative to the reply."""
    assert followup(text, language) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Not this year.",
        "Let's revisit once we know next year's numbers.",
        "Not next year either.",
        "We signed with them last March.",
        "She retired in August.",
        "We have a meeting about this later.",
    ],
)
def test_negated_past_or_vague_timing_gives_no_date(text: str) -> None:
    """Negated, possessive or past mentions of time state no follow-up date."""
    assert followup(text) is None


def test_a_month_already_begun_means_next_year() -> None:
    """ "In October", written in October, is next October (its start has passed)."""
    assert followup("Try again in October.") == date(2027, 10, 1)


def test_dates_are_relative_to_the_reply_not_to_today() -> None:
    """The same words on another reply date give another follow-up date."""
    assert followup("Next quarter.", sent=date(2027, 2, 3)) == date(2027, 4, 1)
    assert followup("In three months.", sent=date(2027, 2, 3)) == date(2027, 5, 3)


def return_date(text: str, language: str = "en") -> date | None:
    found = FINDER.return_date(folded(text), SENT, language)
    return found.day if found else None


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "en",
            "I'm out of the office until October 19 and will reply when I return.",
            date(2026, 10, 19),
        ),
        ("en", "I am on vacation with no email access. Back on 10/14.", date(2026, 10, 14)),
        ("en", "I'm out until Monday, October 19th.", date(2026, 10, 19)),
        ("en", "I will be back in the office on Tuesday 20 October 2026.", date(2026, 10, 20)),
        ("en", "I'll be back on the 19th.", date(2026, 10, 19)),
        ("en", "Away from October 12 to October 19.", date(2026, 10, 19)),
        ("en", "Back on Monday.", date(2026, 10, 12)),
        ("en", "Back tomorrow.", date(2026, 10, 9)),
        ("en", "On parental leave until January 2027.", date(2027, 1, 1)),
        ("de", "Ich bin bis 20.10.2026 im Urlaub.", date(2026, 10, 20)),
        ("de", "Ich bin bis einschließlich 23. Oktober nicht im Büro.", date(2026, 10, 23)),
        ("de", "Ab dem 21.10. bin ich wieder erreichbar.", date(2026, 10, 21)),
        ("de", "Ich bin vom 12. bis 19. Oktober abwesend.", date(2026, 10, 19)),
        ("fr", "Je suis absente jusqu'au 20 octobre inclus.", date(2026, 10, 20)),
        ("fr", "Absent du 12 au 19 octobre.", date(2026, 10, 19)),
        ("fr", "Je serai de retour le 19/10.", date(2026, 10, 19)),
        ("es", "Estoy fuera de la oficina hasta el 19 de octubre.", date(2026, 10, 19)),
        ("es", "Volveré el lunes 19 de octubre.", date(2026, 10, 19)),
        ("es", "De vacaciones del 12 al 19 de octubre.", date(2026, 10, 19)),
        ("nl", "Ik ben afwezig tot en met 21 oktober.", date(2026, 10, 21)),
        ("nl", "Ik ben weer op kantoor op 19 oktober.", date(2026, 10, 19)),
        ("nl", "Vanaf 20 oktober ben ik weer bereikbaar.", date(2026, 10, 20)),
        ("it", "Sono in ferie fino al 22 ottobre.", date(2026, 10, 22)),
        ("it", "Fuori ufficio, rientro il 19/10.", date(2026, 10, 19)),
        ("pt", "Estou de férias até 23 de outubro.", date(2026, 10, 23)),
        ("pt", "Ausente, de volta a 19/10.", date(2026, 10, 19)),
    ],
)
def test_return_date_is_anchored_on_a_cue(language: str, text: str, expected: date) -> None:
    """The date after "until" / "back on" / "bis" / "jusqu'au" / "hasta" is the return date."""
    assert return_date(text, language) == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I'm away at a conference this week."),
        ("fr", "Je suis absent. Je lirai vos messages à mon retour."),
        ("en", "I joined the company on 3/4/2019."),
    ],
)
def test_no_return_date_without_a_cue(language: str, text: str) -> None:
    """Without a cue word nothing is taken for a return date."""
    assert return_date(text, language) is None


def test_day_month_order_follows_the_language() -> None:
    """ "bis 05.11." is the 5th of November; English "until 11/05" is the 5th too."""
    assert return_date("bis 05.11.", "de") == date(2026, 11, 5)
    assert return_date("until 11/05", "en") == date(2026, 11, 5)
    assert return_date("jusqu'au 05/11", "fr") == date(2026, 11, 5)
