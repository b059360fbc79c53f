"""`syncd classify`: JSON lines, .eml and mbox in; one JSON line per reply out."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from syncd.replies import RepliesConfig
from syncd.replies.cli import EX_DATAERR, EX_NOINPUT, run_classify

QUOTE = "\n\nOn Wed, Oct 7, 2026 at 4:40 PM Sam <sam@harborlight.example> wrote:\n> Interested?\n"


def line(**fields: object) -> str:
    return json.dumps(fields)


def run(path: str | None) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = run_classify(path, RepliesConfig(), out)
    return code, [json.loads(x) for x in out.getvalue().splitlines()]


def test_json_lines_give_one_output_line_each(tmp_path: Path) -> None:
    """Each input line is classified, with dates as YYYY-MM-DD and absent fields null."""
    source = tmp_path / "replies.jsonl"
    source.write_text(
        "\n".join(
            [
                line(
                    id="r1",
                    date="Thu, 08 Oct 2026 08:15:00 +0000",
                    **{"from": "Alex <alex@prospect.example>"},
                    subject="Re: Stock counts",
                    headers={},
                    body="Don't call me again." + QUOTE,
                ),
                line(
                    id="r2",
                    date="2026-10-08T08:15:00+00:00",
                    subject="Automatic reply: Stock counts",
                    headers={"Auto-Submitted": "auto-replied"},
                    body="I'm out of the office until October 19.",
                ),
                "",
                line(id="r3", date="Thu, 08 Oct 2026 08:15:00 +0000", body="Try us in Q2."),
            ]
        )
    )
    code, records = run(str(source))
    assert code == 0
    assert all(0.0 <= r.pop("confidence") <= 1.0 for r in records)
    assert records[0] == {
        "id": "r1",
        "intent": "opt_out",
        "channels": ["phone"],
        "return_date": None,
        "followup_after": None,
        "referral_email": None,
        "competitor": None,
        "evidence": ["Don't call me again"],
        "review": False,
        "review_reasons": [],
    }
    assert (records[1]["intent"], records[1]["return_date"]) == ("out_of_office", "2026-10-19")
    assert (records[2]["intent"], records[2]["followup_after"]) == ("not_now", "2027-04-01")


def test_all_channels_are_written_as_all(tmp_path: Path) -> None:
    """An opt-out from every channel is written ["all"], as the policy names it."""
    source = tmp_path / "r.jsonl"
    source.write_text(line(id="x", body="Cease all contact with me and my company."))
    assert run(str(source))[1][0]["channels"] == ["all"]


def test_bad_lines_are_reported_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed line is named by number on stderr, the rest still classified, exit 65."""
    source = tmp_path / "replies.jsonl"
    source.write_text(
        "\n".join(
            [
                line(id="ok1", body="unsubscribe"),
                "{not json",
                line(body="no id here"),
                line(id="ok2", date="yesterday-ish", body="No thanks."),
                line(id="ok3", body="No thanks."),
            ]
        )
    )
    code, records = run(str(source))
    assert code == EX_DATAERR
    assert [r["id"] for r in records] == ["ok1", "ok3"]
    errors = capsys.readouterr().err
    assert "line 2: not valid JSON" in errors
    assert "line 3: 'id' is missing" in errors
    assert "line 4: 'date' is neither" in errors


EML = (
    b"From: Alex Kim <alex@prospect.example>\r\n"
    b"To: Sam <sam@harborlight.example>\r\n"
    b"Subject: Re: Stock counts\r\n"
    b"Date: Thu, 08 Oct 2026 08:15:00 +0000\r\n"
    b"Message-ID: <reply-1@prospect.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Melden Sie sich bitte in sechs Monaten noch einmal.\r\n\r\n"
    b"Am Mi., 7. Okt. 2026 um 16:40 Uhr schrieb Sam <sam@harborlight.example>:\r\n"
    b"> Interesse?\r\n"
    b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Melden Sie sich bitte in sechs Monaten noch einmal.</p>\r\n"
    b"--b1--\r\n"
)


def test_eml_file_is_read(tmp_path: Path) -> None:
    """A single .eml is decoded (MIME, quoted-printable) and classified under its Message-ID."""
    source = tmp_path / "reply.eml"
    source.write_bytes(EML)
    code, records = run(str(source))
    assert code == 0
    assert records == [
        {
            "id": "reply-1@prospect.example",
            "intent": "not_now",
            "channels": [],
            "return_date": None,
            "followup_after": "2027-04-08",
            "referral_email": None,
            "competitor": None,
            "evidence": records[0]["evidence"],
            "confidence": records[0]["confidence"],
            "review": False,
            "review_reasons": [],
        }
    ]
    assert "in sechs Monaten" in records[0]["evidence"]


def test_mbox_is_split_into_messages(tmp_path: Path) -> None:
    """Every message of an mbox is classified, in order, with mboxrd escapes undone."""
    first = (
        b"From alex@prospect.example Thu Oct  8 08:15:00 2026\n"
        b"From: alex@prospect.example\nSubject: Re: hi\nDate: Thu, 08 Oct 2026 08:15:00 +0000\n"
        b"Message-ID: <a@x>\n\nPlease remove me from your list.\n>From here on, no more.\n\n"
    )
    second = (
        b"From jo@prospect.example Thu Oct  8 09:00:00 2026\n"
        b"From: jo@prospect.example\nSubject: Automatic reply: hi\n"
        b"Auto-Submitted: auto-replied\nDate: Thu, 08 Oct 2026 09:00:00 +0000\n\n"
        b"Je suis absent jusqu'au 20 octobre.\n"
    )
    source = tmp_path / "inbox"
    source.write_bytes(first + second)
    code, records = run(str(source))
    assert code == 0
    assert [(r["id"], r["intent"]) for r in records] == [("a@x", "opt_out"), ("2", "out_of_office")]
    assert records[1]["return_date"] == "2026-10-20"


def test_standard_input_is_read_for_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """With "-" (or no FILE) the lines come from standard input."""
    data = line(id="s1", body="Sounds good, send me a quote.").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, records = run("-")
    assert (code, records[0]["intent"]) == (0, "interested")


def test_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable FILE exits 66 with the reason, and prints no records."""
    code, records = run(str(tmp_path / "absent.jsonl"))
    assert (code, records) == (EX_NOINPUT, [])
    assert "cannot read" in capsys.readouterr().err
