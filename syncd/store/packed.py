"""The state store's JSON columns, stored compressed: `PackedJSON`.

State is kept for every prospect ever seen and most of it is JSON whose member names, enum
values, rule ids and policy phrases repeat from row to row. A row is too small for a
compressor to find those repeats in itself, so each column compresses against a preset
dictionary holding them (zstd, raw-content dictionaries written by hand below): a ~280-byte
touch stores in under 100 bytes, at a few microseconds each way.

A stored value is one byte naming the dictionary, then a magicless zstd frame (content size
written, no checksum, no dictionary id: the byte says all that). A dictionary, once released,
is never edited: rows name it forever. A better one is added beside it under a new byte and
the column's `_WRITE` entry pointed at it; rows written before keep reading.

What reads as plain JSON instead: a `str` (rows SQLite stored as TEXT before schema 10), and
bytes that start as JSON text does (PostgreSQL's rows converted to BYTEA by migration 10, or a
value that compression would not make smaller, such as `[]`). The bytes that name a dictionary
are control characters that JSON text never starts with.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import sqlalchemy as sa
import zstandard

from syncd.store.codec import dumps

MAX_VALUE_BYTES = 1 << 20  # a corrupt frame cannot claim more than this when decompressed

# Rows of one column share these; the fragments are written in the codec's member order
# (sorted), the commonest last, where a match costs the least to point at.
_PERSON = '"ref":{"id":"","kind":"contact","system":"salesforce"}'
_OWNER = '"owner":{"active":true,"id":"","is_queue":false,"timezone":"'
_ZONES = (
    "UTC America/New_York America/Chicago America/Denver America/Los_Angeles "
    "America/Sao_Paulo Europe/London Europe/Paris Europe/Madrid Europe/Amsterdam "
    "Europe/Zurich Europe/Vienna Asia/Tokyo Asia/Singapore Asia/Kolkata Australia/Sydney "
    "Europe/Berlin"
)
_KINDS = (
    '"kind":"thank_you" "insight_email" "linkedin" "case_study" "product_update" '
    '"handwritten_note" "check_in" "release" "entry_point" "gatekeeper" "referral" "urgent" '
    '"opt_out" "enrol" "review" "call" "callback"'
)
_RULES = (
    "fit.ok fit.not_a_fit industry.excluded industry.not_listed country.excluded "
    "country.not_listed crm_reason.not_a_fit worth.tier worth.clamp event.duplicate "
    "event.out_of_order event.same_message suppress.all suppress.all_off suppress.known "
    "suppress.crm_flags suppress.opt_out suppressed.all reply.auto_reply reply.other "
    "reply.out_of_office active.open_work active.interested review.opened review.held "
    "review.active review.resolved review.suppression review.fit.regained review.fit.not_a_fit "
    "review.release.trigger release.match release.trigger referral.task cross_sell.angles "
    "contactless.account_plan cycle.restart callback.base callback.not_now callback.hostile "
    "callback.no_decision callback.stated_date callback.stated_date.past callback.rebased "
    "callback.product_gap.base callback.product_gap.release callback.competitor.check_in "
    "callback.competitor.renewal callback.budget.fiscal entry_point.small_account "
    "entry_point.large_account entry_point.gatekeeper cadence.enrol cadence.gap "
    "cadence.same_day cadence.cap.owner cadence.cap.person cadence.cap.account "
    "cadence.nurture calendar.country_unknown calendar.timezone_unknown ack.task ack.draft "
    "ack.skipped plan.update plan.new reason.resolved calendar.business_day"
)
_REASONS = (
    '"reason":"not_now" "competitor" "product_gap" "no_decision" "hostile" "not_interested" '
    '"not_a_fit" "other" "budget"'
)
_SHARED_BRIEF = (
    "WHO SAID NO\n\nAccount:  employees)\nWhen: , closed-lost opportunity, lead status, "
    "e-mail reply\nDeal: stage reached: , amount: \nReason: budget (CRM value: ; competitor: "
    "\nTheir words: “”\n\nHISTORY\nEarlier rejections: none — this is their first no.\n"
    "Touches so far: none.\n\nOTHER CONTACTS AT THE ACCOUNT\n; and  more\n"
    "Suggested entry points: \n\nANGLE\n- Release “ answers their reason. Proof: - Cross-sell, "
    "not offered to this account yet: - Case study: a customer in  of about  employees.\n"
)
_WHY = (
    "Gentle nurture between their no and the call-back: . Thank them for their time and offer "
    "to stay in touch: how they are treated now decides whether the door stays open. "
    "They asked to be contacted around . They said not now;  days on is a fair time to ask "
    "again. No release answers their gap yet;  days on, the product has moved. No decision "
    "was made;  days on, things may have moved. A hard no is still a not-now while they fit "
    "the profile; call again after  days after their no, the timing may be right. The last "
    "call-back brought no decision;  days on, the cycle starts again. They chose ; the "
    "-month contract renews around , so call  days before. The release “” answers what they "
    "missed. An early check-in after they chose : how is it going? Listen for friction. "
    "The no came through a gatekeeper. Build rapport: understand the issues from their side, "
    "then ask for a referral to  or whoever decides. In a small company, call at the top: "
    " may see it differently from . One person's no is not the account's:  works in another "
    "department with other needs.  referred you to : contact them and mention the referral. "
    "They asked not to be contacted by : the CRM opt-out flags are set. "
    "Scheduled later to keep your day manageable. WHY THIS TOUCH NOW\n (rule )"
)
_SUBJECTS = (
    "Thank  and offer to stay in touch. Share a market insight with . Engage with  on "
    "LinkedIn. Send  a case study from a similar company. Send  a product update. Send  a "
    "handwritten note. Check in with  by phone. Check in with : how is it going with ? "
    "We improved:  (for ). Another way into : . Build rapport with the gatekeeper for . "
    "Contact , referred by .  re-engaged: follow up now. Opt-out recorded for . Add  to "
    "the nurture list. Read this reply from  and decide. Find the right person at . "
    "Call back : we improved, “” answers their gap. Call back : the time may be right now"
)

_DICTIONARIES: dict[int, str] = {
    # 1: prospects.snapshot (a Prospect without its own ref)
    1: (
        '{"account":{"annual_revenue":,"country":"US","custom":{},"employees":,"industry":'
        '"Technology","Manufacturing","Financial Services","Healthcare","Retail","Education",'
        '"products_offered":[],"ref":{"id":"","system":"hubspot"}},"department":"Sales",'
        '"Marketing","Engineering","Finance","Operations","Purchasing","IT","title":"Head of ",'
        '"Director","Manager","Chief Executive Officer","VP ","opted_out":["email","linkedin",'
        f'"mail","phone"],{_PERSON},"timezone":"{_ZONES}","country":"GB","DE","FR","NL","'
        '{"account":{"country":"US","employees":,"name":"","owner_id":"'
        f'"}},"email":"@gmail.com","name":"",{_OWNER}'
    ),
    # 2: events.payload (a RejectionEvent without id, shard, person and position)
    2: (
        '"contact_fallback":"opportunity_contact","recent_activity","primary_contact",'
        '"account_plan","currency":"USD","EUR","GBP","reply":{"auto_reply":true,"competitor":'
        '"","confidence":0.,"evidence":[],"followup_after":"","gatekeeper":true,"hostile":true,'
        '"intent":"interested","not_now","not_interested","competitor","out_of_office",'
        '"referral","other","opt_out","mailbox_id":"","message_id":"<@mail.gmail.com>",'
        '"opt_out_channels":["email","linkedin","mail","phone"],"references":"",'
        '"referral_email":"","return_date":"","review":true,"review_reasons":["low_confidence",'
        '"conflicting_cues","no_cue","opt_out_net","model_disagrees"],"subject":"Re: ","text":'
        '"","thread_id":""},"stated_date":"20","quote":"",'
        f"{_REASONS},"
        '"related":[{"ref":{"id":"","kind":"contact","system":"salesforce"}}],"source":"lead",'
        '"reply","stage":"Prospecting","Qualification","Needs Analysis","Value Proposition",'
        '"Id. Decision Makers","Perception Analysis","Negotiation/Review","Closed Lost",'
        '"Proposal/Price Quote",'
        '"competitor":"","reason_raw":"Budget","Price","Timing","Not Interested","Competitor",'
        '{"amount":.0,"occurred_at":"2025-01-01T00:00:00Z","opportunity_id":"","reason_raw":"'
        '","source":"opportunity","stage":"'
    ),
    # 3: plans.context (the writes' context: opportunity, assignee, the reply's thread)
    3: (
        '"reply":{"mailbox_id":"","message_id":"<@mail.gmail.com>","references":"","subject":'
        '"Re: ","thread_id":""},"source_shard":"salesforce","hubspot",'
        f'"timezone":"{_ZONES}",'
        '"owner_via":"account_owner","fallback_owner",'
        '{"opportunity_id":"","owner":{"id":"","is_queue":false,"timezone":"'
        '"},"owner_via":"record_owner"}'
    ),
    # 4: touches.touch (a Touch without due and seq, its brief only its own "why now")
    4: (
        f"{_SUBJECTS} {_WHY} {_KINDS} {_RULES} "
        '"opt_out_channels":["email","linkedin","mail","phone"],"priority":"low",'
        f'"target":{{{_PERSON}}},"write":"draft","enrol","opt_out",'
        '"channel":"email","linkedin","todo",'
        '"suppress_channel":"email","linkedin","mail",'
        '{"+":1,"brief":"WHY THIS TOUCH NOW\\n Scheduled later to keep your day manageable.'
        ' Gentle nurture between their no and the call-back: ","channel":"call","kind":'
        '"callback","priority":"normal","rule_id":"","subject":"Call back : the time may be right '
        'now","suppress_channel":"phone","write":"task"}'
        '{"+":2,"brief":"No budget then; their next fiscal year starts ",'
        '"channel":"call","kind":"callback","priority":"high","rule_id":"callback.budget.fiscal",'
        '"subject":"Call back : the time may be right now","suppress_channel":"phone",'
        '"write":"task"}'
    ),
    # 5: audit.data (decisions: [rule_id, inputs] pairs; writes, pauses, reviews)
    5: (
        '{"status":"done","dead","in_doubt","remote_id":"","error":""}'
        '{"fallback":"opportunity_contact","event_id":"","opportunity_id":""}'
        '{"scope":"prospect","account","shard","paused_days":,"touches_moved":,"reason":""}'
        '"outcome":"not_a_fit","opted_out","active","auto_reply","ignored","review",'
        f"{_RULES} "
        '["reason.resolved",{"raw":"","reason":"not_now","source":"mapping.keyword","connector",'
        '"reply"}],["calendar.business_day",{"country":"US","timezone":"UTC"}],'
        '{"account":,"amount":,"back_on":"","by":"","cap":,"carried_over":,"channel":"",'
        '"channels":[],"clamped":,"competitor":"","confidence":,"cycle":,"date":"","days":,'
        '"decided_as":"","delay":,"dropped":,"due":"","earlier_rejections":,"email_held":,'
        '"enrol":,"event_id":"","factor":,"find_on":"","had_plan":,"held_since":"","intent":"",'
        '"interval_days":,"known_contact":,"latest_known":"","lead_days":,"max":,"min":,'
        '"min_gap_days":,"open_work":,"placed":,"previous_generation":,"product_lines":[],'
        '"reasons":[],"rechannelled":,"rejected_on":"","release":"","releases":[],"renewal":"",'
        '"replay":,"reply":,"rotation":,"scaled_days":,"stated":"","steps":,"term_months":,'
        '"term_source":"","tier":"","used":,"why":"","write":""}'
        f"{_ZONES} {_REASONS} "
        '{"outcome":"nurture","plan_id":"#1","rules":[["fit.ok"],["reason.resolved",{"raw":"'
        '","reason":"budget","source":"mapping.value"}],["ack.skipped",{"why":"stale_rejection"}]'
        ',["plan.new",{"generation":1}],["callback.budget.fiscal",{"fiscal_year_start":"01-01",'
        '"period":"year","starts":"20"}],["calendar.business_day",{"country":"","timezone":"'
        '","touches_moved":1}]],"source":"'
    ),
    # 6: outbox.spec (a TouchSpec: the whole brief as its body)
    6: (
        f"{_SHARED_BRIEF} {_SUBJECTS} {_WHY} "
        '{"account_id":"","body":"","channel":"call","email","linkedin","todo","due":"20",'
        '"in_reply_to":"<@mail.gmail.com>","key":"","opportunity_id":"","opt_out_channels":'
        '["email","linkedin","mail","phone"],"owner_id":"","priority":"high","low","normal",'
        f'"prospect":{{"id":"","kind":"contact","system":"salesforce"}},"references":"",'
        '"reply_id":"","subject":"","thread_id":"","thread_subject":"Re: ","to_email":"",'
        '"write":"task","draft","opt_out","enrol"}'
    ),
    # 7: the rarer columns (plans.rules, reviews.hold, outcomes.attribution)
    7: (
        f"{_RULES} "
        '{"email_held":true,"event_id":"","opened_on":"20","opted_out":["email","linkedin",'
        '"mail","phone"],"reasons":["low_confidence","conflicting_cues","no_cue","opt_out_net",'
        '"model_disagrees"],"resolution":"task_completed","opt_out_flag"}'
        f'{{"any_touch":[{{"channel":"call","due":"20",{_KINDS},"rule":""}}],"kind":'
        '"new_opportunity","interested_reply","last_touch":{"channel":"email","due":"20","kind":'
        '"","rule":""},"rule":"last_touch+any_touch","source_ref":"","touches_made":,'
        '"window_days":90}'
    ),
}

# The dictionary each column writes with (the column's name as PackedJSON is given it).
_WRITE: dict[str, int] = {
    "snapshot": 1,
    "payload": 2,
    "context": 3,
    "touch": 4,
    "data": 5,
    "spec": 6,
    "rules": 7,
    "hold": 7,
    "attribution": 7,
}

_JSON_START = frozenset(b'{["-0123456789tfn \t\r\n')
_DECODE = msgspec.json.Decoder()
_DICTS = {
    n: zstandard.ZstdCompressionDict(text.encode(), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    for n, text in _DICTIONARIES.items()
}
_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    3,
    format=zstandard.FORMAT_ZSTD1_MAGICLESS,
    write_content_size=True,  # without it decompressing is several times slower
    write_checksum=False,
    write_dict_id=False,
)


class _Codecs(threading.local):
    """One compressor and decompressor per dictionary and thread (neither is thread-safe;
    making one per value would cost more than the compression itself)."""

    def __init__(self) -> None:
        self.pack = {
            n: zstandard.ZstdCompressor(dict_data=d, compression_params=_PARAMS)
            for n, d in _DICTS.items()
        }
        self.unpack = {
            n: zstandard.ZstdDecompressor(dict_data=d, format=zstandard.FORMAT_ZSTD1_MAGICLESS)
            for n, d in _DICTS.items()
        }


_CODECS = _Codecs()


class UnreadableValue(ValueError):
    """A stored value names no dictionary this syncd knows (written by a newer one?)."""


def pack(column: str, value: Any) -> bytes:
    """A value as `column` stores it: compressed after its dictionary's byte, or its JSON
    text as it is when that is no longer."""
    text = dumps(value).encode()
    if len(text) > MAX_VALUE_BYTES:  # too large to be read back packed: kept as it is
        return text
    number = _WRITE[column]
    packed = bytes((number,)) + _CODECS.pack[number].compress(text)
    return packed if len(packed) < len(text) else text


def unpack(column: str, stored: bytes | str) -> Any:
    """The value `pack` stored (or the plain JSON of rows written before packing)."""
    if isinstance(stored, str):
        return _DECODE.decode(stored)
    data = bytes(stored)
    if not data:
        raise UnreadableValue(f"{column}: an empty value")
    first = data[0]
    if first in _JSON_START:
        return _DECODE.decode(data)
    decompressor = _CODECS.unpack.get(first)
    if decompressor is None:
        raise UnreadableValue(
            f"{column}: stored with dictionary {first}, unknown to this syncd "
            "(written by a newer version?)"
        )
    frame = data[1:]
    if _content_size(frame) > MAX_VALUE_BYTES:  # the decompressor would allocate it as told
        raise UnreadableValue(f"{column}: a stored value claims more than {MAX_VALUE_BYTES} bytes")
    return _DECODE.decode(decompressor.decompress(frame, max_output_size=MAX_VALUE_BYTES))


_FIELD_WIDTHS = (0, 2, 4, 8)  # by the descriptor's two top bits (0: 1 in a single segment)
_DICT_ID_WIDTHS = (0, 1, 2, 4)  # by its two low bits


def _content_size(frame: bytes) -> int:
    """The decompressed size a magicless frame's header states (0 when it states none, and
    then `max_output_size` bounds the output)."""
    if not frame:
        return 0
    descriptor = frame[0]
    single_segment = descriptor & 0x20
    width = _FIELD_WIDTHS[descriptor >> 6] or (1 if single_segment else 0)
    start = 1 + (0 if single_segment else 1) + _DICT_ID_WIDTHS[descriptor & 3]
    size = int.from_bytes(frame[start : start + width], "little")
    return size + 256 if width == 2 else size


class PackedJSON(sa.types.TypeDecorator[Any]):
    """A JSON column stored as `pack` writes it (BLOB / BYTEA); reads give the decoded value
    whatever way the row was written."""

    impl = sa.LargeBinary
    cache_ok = True

    def __init__(self, name: str) -> None:
        super().__init__()
        if name not in _WRITE:
            raise ValueError(f"no dictionary for a column named {name!r}")
        self.name = name

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> bytes:
        return pack(self.name, value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, int | float):  # SQLite's numeric affinity on an old JSON column
            return value
        return unpack(self.name, value)
