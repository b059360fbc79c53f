"""The out-of-the-box tables of the `[policy]` section: reason words, country names, the draft.

Admins replace any of them in the config; these are what a fresh install starts with.
"""

from __future__ import annotations

from syncd.model import ReasonKind

DEFAULT_REASON_VALUES: dict[str, ReasonKind] = {
    "price": ReasonKind.BUDGET,
    "pricing": ReasonKind.BUDGET,
    "too expensive": ReasonKind.BUDGET,
    "budget": ReasonKind.BUDGET,
    "no budget": ReasonKind.BUDGET,
    "competitor": ReasonKind.COMPETITOR,
    "lost to competitor": ReasonKind.COMPETITOR,
    "went with competitor": ReasonKind.COMPETITOR,
    "timing": ReasonKind.NOT_NOW,
    "bad timing": ReasonKind.NOT_NOW,
    "not now": ReasonKind.NOT_NOW,
    "not ready": ReasonKind.NOT_NOW,
    "nurture": ReasonKind.NOT_NOW,
    "no decision": ReasonKind.NO_DECISION,
    "no decision non responsive": ReasonKind.NO_DECISION,
    "non responsive": ReasonKind.NO_DECISION,
    "unresponsive": ReasonKind.NO_DECISION,
    "went dark": ReasonKind.NO_DECISION,
    "attempted to contact": ReasonKind.NO_DECISION,
    "feature": ReasonKind.PRODUCT_GAP,
    "features": ReasonKind.PRODUCT_GAP,
    "missing feature": ReasonKind.PRODUCT_GAP,
    "product gap": ReasonKind.PRODUCT_GAP,
    "functionality": ReasonKind.PRODUCT_GAP,
    "not interested": ReasonKind.NOT_INTERESTED,
    "unqualified": ReasonKind.OTHER,
    "not a fit": ReasonKind.NOT_A_FIT,
    "no fit": ReasonKind.NOT_A_FIT,
    "bad fit": ReasonKind.NOT_A_FIT,
    "wrong size": ReasonKind.NOT_A_FIT,
}

DEFAULT_REASON_KEYWORDS: dict[str, ReasonKind] = {
    "competitor": ReasonKind.COMPETITOR,
    "budget": ReasonKind.BUDGET,
    "price": ReasonKind.BUDGET,
    "pricing": ReasonKind.BUDGET,
    "cost": ReasonKind.BUDGET,
    "expensive": ReasonKind.BUDGET,
    "timing": ReasonKind.NOT_NOW,
    "next year": ReasonKind.NOT_NOW,
    "feature": ReasonKind.PRODUCT_GAP,
    "integration": ReasonKind.PRODUCT_GAP,
    "no decision": ReasonKind.NO_DECISION,
    "dark": ReasonKind.NO_DECISION,
    "respon": ReasonKind.NO_DECISION,
}


DEFAULT_COUNTRY_ALIASES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "españa": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "belgium": "BE",
    "ireland": "IE",
    "canada": "CA",
    "australia": "AU",
    "mexico": "MX",
    "méxico": "MX",
    "brazil": "BR",
    "india": "IN",
    "japan": "JP",
}


DEFAULT_DRAFT = (
    "Hi{first_name_sp},\n\n"
    "Thank you for taking the time to let me know, I appreciate it.\n\n"
    "If it's all right with you, I'll stay in touch now and then with something useful "
    "from what we see in the market, and check back when the timing may be better.\n\n"
    "All the best"
)
