"""Prospects' replies: new-text extraction, auto-reply detection, intent classification."""

from syncd.replies.autoreply import is_auto_reply
from syncd.replies.classify import Classifier, classify, to_reply_info
from syncd.replies.config import RepliesConfig
from syncd.replies.extract import extract_new_text
from syncd.replies.message import Classification, ReplyMessage

__all__ = [
    "Classification",
    "Classifier",
    "RepliesConfig",
    "ReplyMessage",
    "classify",
    "extract_new_text",
    "is_auto_reply",
    "to_reply_info",
]
