"""`syncd classify` reads whatever it is given: a bad record is a line on stderr, never a crash."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.replies import RepliesConfig
from syncd.replies.cli import EX_DATAERR, EX_OK, run_classify
from syncd.replies.inputs import BadRecord, read_messages
from syncd.replies.message import ReplyMessage

EML = (
    b"From: Pat <pat@prospect.example>\r\nSubject: Re: Stock counts\r\n"
    b"Date: Thu, 08 Oct 2026 08:15:00 +0000\r\nMessage-ID: <r1@prospect.example>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nNot now, maybe in spring.\r\n"
)
MBOX = b"From pat@prospect.example Thu Oct  8 08:15:00 2026\n" + EML.replace(b"\r\n", b"\n")


def classify_file(
    tmp_path: Path, name: str, data: bytes, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str], str]:
    source = tmp_path / name
    source.write_bytes(data)
    out = io.StringIO()
    code = run_classify(str(source), RepliesConfig(), out)
    return code, out.getvalue().splitlines(), capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        pytest.param("empty.mbox", b"", "message 1: the mbox is empty", id="empty-mbox"),
        pytest.param(
            "inbox.mbox", EML, "message 1: no 'From ' separator line", id="mbox-without-separator"
        ),
        pytest.param(
            "deep.jsonl",
            b"[" * 100_000 + b"]" * 100_000,
            "line 1: JSON nested too deeply",
            id="deep-json",
        ),
        pytest.param(
            "big.jsonl", b'{"id": ' + b"9" * 5_000 + b"}", "line 1: not valid JSON", id="huge-int"
        ),
        pytest.param(
            "latin1.jsonl", '{"id": "é"}'.encode("latin-1"), "line 1: not UTF-8", id="not-utf8"
        ),
        pytest.param(
            "junk.eml", b"\x00\xff\xfe" * 50, "message 1: no mail headers found", id="binary-eml"
        ),
    ],
)
def test_unreadable_input_is_one_error_line_naming_file_and_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, error: str
) -> None:
    """Each unreadable record is reported with the file and its place, and the exit is 65."""
    code, records, err = classify_file(tmp_path, name, data, capsys)
    assert (code, records) == (EX_DATAERR, [])
    assert f"syncd classify: {tmp_path / name}: {error}" in err
    assert "Traceback" not in err


def test_malformed_headers_still_give_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken address lists, encoded words and charsets cost only their own decoding."""
    eml = (
        b"From: =?utf-8?q?Pat=?= <<pat@@prospect.example>>, (unclosed\r\n"
        b'To: ;;;@,"\r\nSubject: =?x-unknown?b?////?= Re: hi\r\n'
        b"Date: Thu, 99 Foo 2026 99:99:99 +9999\r\nMessage-ID: <r2@prospect.example>\r\n"
        b"Content-Type: text/plain; charset=made-up-charset\r\n\r\n"
        b"Please remove me from your list.\r\n"
    )
    code, records, err = classify_file(tmp_path, "reply.eml", eml, capsys)
    assert (code, err) == (EX_OK, "")
    record = json.loads(records[0])
    assert (record["id"], record["intent"]) == ("r2@prospect.example", "opt_out")


def test_deeply_nested_mime_is_a_bad_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A MIME tree nested thousands deep is reported, not a RecursionError."""
    parts = [f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(3_000)]
    eml = b"From: pat@prospect.example\nMessage-ID: <r3@x>\n" + "".join(parts).encode()
    code, _, err = classify_file(tmp_path, "deep.eml", eml, capsys)
    assert code in (EX_OK, EX_DATAERR)
    assert "Traceback" not in err


def test_a_lone_surrogate_in_json_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON may carry "\\ud800"; the reply is still classified and written as valid UTF-8."""
    data = b'{"id": "s1", "body": "No thanks \\ud800"}\n'
    code, records, _ = classify_file(tmp_path, "r.jsonl", data, capsys)
    assert code == EX_OK
    assert json.loads(records[0])["id"] == "s1"


def test_mbox_messages_are_all_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two messages separated the mbox way are two records."""
    code, records, _ = classify_file(tmp_path, "inbox.mbox", MBOX + b"\n" + MBOX, capsys)
    assert (code, len(records)) == (EX_OK, 2)


names = st.sampled_from([None, "r.jsonl", "r.eml", "r.mbox", "r.txt"])
samples = st.sampled_from([EML, MBOX, b'{"id": "x", "body": "hi"}\n', b""])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid sample with random bytes inserted, replaced or cut."""
    data = bytearray(draw(samples))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "replace", "cut"]))
        chunk = draw(st.binary(max_size=20))
        if action == "insert":
            data[at:at] = chunk
        elif action == "replace":
            data[at : at + len(chunk)] = chunk
        else:
            del data[at : at + draw(st.integers(0, 40))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2_000), mutated()), names)
def test_any_bytes_are_read_into_messages_or_bad_records(data: bytes, name: str | None) -> None:
    """No input makes the readers raise: every record is a message or a named bad record."""
    for item in read_messages(data, name):
        assert isinstance(item, ReplyMessage | BadRecord)
        if isinstance(item, BadRecord):
            assert item.where and item.reason
        else:
            item.body.encode("utf-8")  # writable as UTF-8: no lone surrogates
            item.subject.encode("utf-8")
