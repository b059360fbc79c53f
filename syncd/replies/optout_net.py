"""The opt-out safety net: deliberately over-inclusive, separate from intent scoring.

The phrase tables decide whether a reply *is* an opt-out; this net only asks whether it *might
be* one: any mention of data protection law or personal data, any "stop", "remove",
"unsubscribe", "no more e-mails", "nichts mehr von euch hören", "ne plus être contacté",
"no … más correos" in every supported language, written loosely (a few words may sit in between).
A reply the net catches that the tables do not read as a decisive opt-out goes to a person,
and e-mail to that prospect is held until they decide: a false alarm costs a rep a minute,
a missed opt-out is a legal problem.

Only the prospect's own new text and the subject are read, never the quoted pitch (whose own
unsubscribe footer would otherwise fire on every reply). Every pattern is linear: no nested
unbounded repetition, and every gap is a bounded run of words.
"""

# ruff: noqa: E501 -- a pattern or a table row reads best on one line

from __future__ import annotations

import re

from syncd.replies.fastre import WordStartPatterns
from syncd.replies.text import Folded, fold_pattern, folded

# up to N words in between: "I don't want [any of] your e-mails"
_GAP = r"(?:[\s,]+[\w'-]+){0,%d}?[\s,]+"
_MAIL = r"(?:e-?mails?|mails?|emailing|mailings?|courriels?|correos?|nachrichten|messages?|mensajes|newsletters?|werbung|publicidad|marketing|spam|calls?|anrufe|appels|llamadas|comunicaciones|communications?|contact)"

_PATTERNS: tuple[str, ...] = (
    # data protection law, personal data, direct marketing: every language
    r"\b(?:gdpr|dsgvo|rgpd|lopd|lopdgdd|ccpa|uk-gdpr|bdsg|cnil|aepd|ico)\b",
    r"\bart(?:icle|ikel|iculo|\.)?\s*(?:15|17|21)\b",
    r"\b(?:data protection|privacy (?:law|regulation|policy|rights?)|personal (?:data|information|details)|direct marketing|marketing purposes)\b",
    r"\b(?:datenschutz\w*|personenbezogen\w*|werbewiderspruch|widersprech\w*|widerspreche\w*|widerspruch|werbezweck\w*|direktwerbung)\b",
    r"\b(?:donnees (?:personnelles|a caractere personnel)|protection des donnees|prospection commerciale|demarchage|m'oppose|opposition au traitement)\b",
    r"\b(?:proteccion de datos|datos personales|datos de caracter personal|me opongo|oposicion al tratamiento|comunicaciones comerciales)\b",
    r"\b(?:my|meine[nr]?|mes|mis) (?:data|daten|donnees|datos|details|coordonnees)\b",
    r"\b(?:stop|cease) (?:processing|using|holding|storing)\b",
    r"\b(?:object|objection) to\b",
    r"\b(?:where|how) did you get (?:my|our|this)\b",
    r"\b(?:woher haben sie|d'ou (?:tenez|avez)-vous|de donde (?:ha|han) sacado)\b",
    r"\b(?:delete|erase|remove|forget) (?:my|our|all|me|us)\b",
    # asking to stop, loosely
    r"\b(?:unsubscribe|unsubscribed|opt(?:ing)?[- ]?out|opt me out|remove me|take me off|delete me|leave me alone|do not contact|never contact)\b",
    r"\b(?:i|we) (?:do ?n[o']?t|dont|no longer|never) (?:want|wish|need|like)"
    + _GAP % 3
    + _MAIL
    + r"\b",
    r"\b(?:i|we) (?:do ?n[o']?t|dont) want (?:this|these|that|your|any|more|to (?:hear|receive|be))\b",
    r"\b(?:no|any) (?:more|further)" + _GAP % 1 + _MAIL + r"\b",
    r"\b(?:stop|quit|cease|enough)\b(?:"
    + _GAP % 3
    + _MAIL
    + r"\b|\s*(?:it|this|that|now|please|already|immediately)?\s*(?:[.!]|$))",
    r"\b(?:stop|quit|cease) (?:e-?mailing|emailing|mailing|calling|contacting|sending|writing|messaging|spamming|bothering|pestering)\b",
    r"\b(?:do ?n[o']?t|dont|never) (?:ever )?(?:e-?mail|contact|call|write|message|send|bother)\b",
    r"\b(?:spam|spamming|harass\w*|unsolicited|unwanted|cease and desist)\b",
    r"\b(?:off|from) (?:your|the) (?:list|mailing list|database|distribution)\b",
    # German
    r"\b(?:abmelden|abmeldung|abbestell\w*|austragen|ausgetragen|entfernen sie mich|streichen sie mich|loschen sie|verteiler)\b",
    r"\b(?:datenbank|liste|kartei|verteiler|adressliste)\w*\b(?:[\s,]+[\w'-]+){0,4}?[\s,]+(?:gelöscht|löschen|entfernt|entfernen|streichen|gestrichen|austragen|ausgetragen)\b",
    r"\bnichts(?: mehr)? von (?:euch|ihnen|dir|ihrer firma)\b",
    r"\bkeine\b" + _GAP % 2 + _MAIL + r"\b",
    r"\b(?:nicht mehr|nie wieder|nie mehr)\b"
    + _GAP % 3
    + r"?(?:kontaktier\w*|anschreiben|schreiben|anrufen|melden|belastig\w*|zuschicken|senden|zusenden|storen|e-?mails?)\b",
    r"\b(?:horen sie auf|hort auf|lassen sie mich in ruhe|lasst mich in ruhe|in ruhe lassen|unerwunscht\w*|unaufgefordert\w*)\b",
    # French
    r"\b(?:desinscri\w*|desabonn\w*|desinscription|me retirer|retirez[- ]moi|supprimez[- ]moi|radiez[- ]moi|retirer mon adresse|supprimer mes|supprimez mes)\b",
    r"\b(?:ne\b|n')"
    + _GAP % 4
    + r"?plus\b"
    + _GAP % 4
    + r"?(?:contacte\w*|sollicite\w*|recevoir|ecrire|appeler|envoyer|deranger|"
    + _MAIL
    + r")\b",
    r"\b(?:arretez|cessez|arreter|cesser)\b"
    + _GAP % 4
    + r"?(?:"
    + _MAIL
    + r"|envoyer|ecrire|contacter|sollicit\w*|appeler|relancer)\b",
    r"\b(?:plus de|pas de|assez de)\b" + _GAP % 1 + _MAIL + r"\b",
    r"\b(?:laissez[- ]moi tranquille|harcelement|harcel\w*)\b",
    # Spanish
    r"\b(?:de baja|darme de baja|denme de baja|darse de baja|dar de baja|baja de)\b",
    r"\bno\b" + _GAP % 5 + r"?(?:mas|nunca)\b" + _GAP % 2 + _MAIL + r"\b",
    r"\b(?:dejen|deje|dejad|deja) de (?:escribir|enviar|mandar|llamar|contactar|molestar)\w*\b",
    r"\b(?:eliminen\w*|elimineme|borren|borrad|saquen\w*|sacadme|quiten\w*|quitadme|eliminad)\b",
    r"\bno (?:me |nos )?(?:contacten|escriban|llamen|moleste\w*|envien|manden)\b",
    r"\bbasta (?:de|ya)\b",
    r"\bno (?:me |nos )?vuelva[ns]? a (?:escribir|contactar|llamar|enviar|mandar|molestar)\w*",
    r"\b(?:cesser|cessez|arretez|arreter) (?:tout |tous |toute |les |vos )?(?:envois?|communications?|relances?|sollicitations?)\b",
    r"\b(?:get|be|take me|take us|keep me|keep us) off (?:this|your|the|that|these|all|any|every) (?:list|lists|mailing|distribution)\b",
    # Dutch, Italian, Portuguese
    r"\b(?:uitschrijven|uitgeschreven|afmelden|afgemeld|verwijder (?:mij|me|ons|mijn)|haal (?:mij|me|ons) (?:van|uit)|mailinglijst|avg)\b",
    r"\b(?:geen|niet meer|nooit meer)\b"
    + _GAP % 2
    + r"?(?:mails?|e-?mails?|berichten|bellen|gebeld|benaderen|contact)\b",
    r"\b(?:cancellami|cancellatemi|cancellarmi|rimuovetemi|rimuovermi|toglietemi|disiscriv\w*|non (?:voglio|desidero) piu|smettete di|i miei dati)\b",
    r"\b(?:descadastr\w*|removam|remova-me|retirem-me|tirem-me|nao (?:quero|desejo) (?:mais )?receber|parem de|os meus dados)\b",
    # a word alone on its line, perhaps with "please"
    r"(?:^|\n)[^\w\n]{0,10}(?:(?:please|pls|plz|bitte|svp|por favor)\s+)?(?:stop|remove|unsubscribe|baja|abmelden|austragen|desinscription|desinscrire|desabonner|uitschrijven|afmelden)[^\w\n]{0,10}(?:\n|$)",
    # misspelt "unsubscribe"
    r"\bun-?sub?s?c?r?i?be?\b",
)
# tried only where a word starting with the right letter begins (see fastre)
_NET = WordStartPatterns([fold_pattern(p) for p in _PATTERNS])
# A subject is usually "Re: <the pitch's subject>", which may well say "stop" or "GDPR": only
# a subject that is nothing but a request ("unsubscribe", "REMOVE ME", "Abmelden bitte") or
# names a data-protection request counts.
_POLITE = r"(?:please|pls|plz|bitte|svp|merci|por favor|gracias|thanks|thank you|now|asap|!)"
_SUBJECT = re.compile(
    fold_pattern(
        rf"\A\W{{0,5}}(?:{_POLITE}\s+)?(?:unsubscribe(?: me)?|remove(?: me| us)?(?: from (?:your |the )?"
        rf"(?:list|mailing list))?|take me off|opt[- ]?out|stop|abmelden|abmeldung|austragen|"
        rf"désinscription|désinscrire|désabonner|désabonnement|baja|darme de baja|dar de baja)"
        rf"(?:\s+{_POLITE})*\W{{0,5}}\Z"
        r"|\b(?:gdpr|dsgvo|rgpd|lopd|data protection|datenschutz)\b.{0,40}\b(?:request|objection|"
        r"widerspruch|auskunft|löschung|loeschung|opposition|suppression|solicitud|derecho|supresión)"
    )
)


# A signature's legal footer ("Datenschutzhinweis: … personenbezogene Daten …", "This e-mail
# is confidential …") is no request: the net skips lines that carry such a marker, except the
# first line of the reply.
_FOOTER = re.compile(
    fold_pattern(
        r"\b(?:confidential\w*|intended recipient|privacy (?:policy|notice|statement)|"
        r"disclaimer|datenschutz(?:hinweis|erklärung|information)\w*|vertraulich\w*|"
        r"pflichtangaben|handelsregister|geschäftsführer|politique de confidentialite|"
        r"mentions legales|destinataire|aviso legal|confidencial\w*|politica de privacidad|"
        r"destinatario|registered (?:office|in)|amtsgericht)\b"
    )
)


def _footer_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line after the first that reads like a legal footer."""
    spans = []
    first_end = text.find("\n")
    if first_end < 0:
        return []
    for m in _FOOTER.finditer(text, first_end):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        spans.append((start, len(text) if end < 0 else end))
    return spans


def net_hits(text: Folded, subject: str) -> list[str]:
    """What made the net fire, as quoted from the new text (or "subject: …"); [] if nothing."""
    footers = _footer_lines(text.text)
    found = [
        text.quote(start, end)
        for start, end in _NET.spans(text.text, text.words)
        if not any(s <= start < e for s, e in footers)
    ]
    line = folded(subject.strip())
    match = _SUBJECT.search(line.text)
    if match is not None:
        found.append(f"subject: {line.quote(match.start(), match.end())}")
    return [f for f in found if f]


def subject_is_request(subject: str) -> bool:
    """Whether the subject says nothing but a request to stop ("Re: unsubscribe")."""
    return _SUBJECT.search(folded(subject.strip()).text) is not None
