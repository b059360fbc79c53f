"""Italian phrase tables (accents are optional in the text: patterns match folded text)."""

# ruff: noqa: E501 -- a phrase pattern reads best on one line; split, its alternatives hide

from __future__ import annotations

from syncd.replies.lexicon import ChannelWord, Cue, Lexicon, words

_STOP_VERB = r"(?:scrivermi|scriverci|contattarmi|contattarci|chiamarmi|chiamarci|inviarmi|inviare|mandarmi|mandare|scrivere|contattare|chiamare|disturbarmi)"

CUES: dict[Cue, tuple[str, ...]] = {
    Cue.OPT_OUT: (
        r"\b(?:cancellatemi|cancellami|rimuovetemi|rimuovimi|toglietemi|toglimi|eliminatemi|eliminami|disiscrivetemi|disiscrivimi)\b",
        r"\b(?:cancellar|rimuover|toglier|eliminar|disiscriver)(?:mi|ci)\b",
        r"\b(?:cancellate|rimuovete|togliete|eliminate) (?:il )?(?:mio|nostro) (?:indirizzo|contatto|nominativo|numero|e-?mail)\b",
        rf"\b(?:smettete|smettila|smetti|smettere|basta) (?:di )?{_STOP_VERB}\b",
        r"\bbasta (?:con )?(?:queste|le|vostre) (?:e-?mail|email|mail|chiamate|telefonate)\b",
    ),
    Cue.OPT_OUT_FIRM: (
        r"\bnon (?:voglio|desidero|vogliamo|desideriamo) (?:più )?(?:\w+ ){0,2}?(?:ricevere|essere contattat\w*|essere chiamat\w*|e-?mail|mail|messaggi|chiamate|telefonate)\b",
        r"\bnon (?:mi|ci) (?:contattate|scrivete|chiamate|contatti|scriva|chiami|mandate|inviate) più\b",
        r"\bnon (?:contattatemi|scrivetemi|chiamatemi|telefonatemi|contattateci|scriveteci|chiamateci) più\b",
        r"\bnon (?:voglio|vogliamo) (?:essere|più essere) (?:contattat|disturbat|chiamat)\w*",
    ),
    Cue.OPT_OUT_BARE: (r"\bdisiscriv\w*",),
    Cue.ERASURE: (
        r"\b(?:cancellate|eliminate|cancellare|eliminare|rimuovete) (?:tutti )?i (?:miei|nostri) dati\b",
        r"\bdiritto (?:all'oblio|di opposizione|alla cancellazione)\b",
        r"\bmi oppongo al (?:trattamento|l'utilizzo)\b",
    ),
    Cue.NOT_A_REQUEST: (
        r"\bper (?:non ricevere più|disiscriverti|disiscriversi|annullare l'iscrizione)\b",
        r"\bannulla (?:l'|la tua )?iscrizione\b",
        r"\bclicca qui:? disiscriviti\b",
    ),
    Cue.HOSTILE: (
        r"\bneanche per sogno\b",
        r"\bperdita di tempo\b",
        r"\bassolutamente no\b",
    ),
    Cue.NOT_INTERESTED: (
        r"\bnon (?:ci|mi) serv(?:e|ono)\b",
        r"\b(?:nemmeno|neanche|neppure|né) in futuro\b",
        r"\b(?:preferiamo|preferisco|dobbiamo|devo) declinare\b",
        r"\bnon (?:siamo|sono) interessat\w*",
        r"\bnon (?:ci|mi) interessa(?:no)?\b",
        r"\bno,? grazie\b",
        r"\bgrazie,? (?:ma )?no\b",
        r"\bnessun (?:interesse|bisogno)\b",
        r"\bnon (?:ne )?abbiamo bisogno\b",
        r"\bnon fa per noi\b",
        r"\bnon (?:è|e) (?:rilevante|pertinente|una priorità)\b",
    ),
    Cue.NOT_NOW: (
        r"\b(?:non|no) (?:adesso|ora|al momento|per ora|in questo momento|quest'anno|subito)\b",
        r"\b(?:al momento|per ora|per il momento|adesso|ora) no\b",
        r"\bpiù avanti\b",
        r"\b(?:ricontattami|ricontattatemi|ricontattarmi|ricontattarci|ricontattateci|risentiamoci|ci risentiamo)\b",
        r"\bmagari (?:più avanti|l'anno prossimo|tra|fra|dopo)\b",
        r"\bnon (?:è|e) il momento\b",
        r"\b(?:niente|nessun|non abbiamo) budget\b",
    ),
    Cue.INTERESTED: (
        r"\b(?:mi|ci) interessa(?:no)?\b",
        r"\b(?:sono|siamo) (?:molto )?interessat\w*",
        r"\b(?:mandatemi|mandami|inviatemi|inviami|mi mandi|mi invii|mi mandate|mi inviate|mandateci|inviateci) (?:\w+ ){0,2}?(?:proposta|offerta|informazioni|preventivo|materiale|brochure|listino|presentazione)\b",
        r"\b(?:possiamo|potremmo) (?:sentirci|parlarne|fissare|organizzare|vederci|fare una call)\b",
        r"\b(?:fissiamo|organizziamo) (?:una|un) (?:call|chiamata|incontro|demo|riunione)\b",
        r"\b(?:chiamami|chiamatemi|mi chiami)\b",
        r"(?:\A|[.!?,\n]\s*)(?:certo|volentieri|va bene|perfetto)\b(?!,? (?:ma|non))",
    ),
    Cue.COMPETITOR: (
        r"\b(?:un )?altro fornitore\b",
        r"\bfornitore attuale\b",
        r"\bconcorrent[ei]\b",
    ),
    Cue.COMPETITOR_NAMED: (
        r"\b(?:abbiamo|ho) (?:già |appena |da poco )?(?:un contratto|un accordo) con <<name>>",
        r"\b(?:usiamo|utilizziamo|lavoriamo con) (?:già |ora |attualmente |da anni )?<<name>>",
        r"\b(?:abbiamo|ho) (?:già |appena |recentemente )?(?:scelto|firmato con|optato per|acquistato) <<name>>",
        r"\bsiamo passati a <<name>>",
    ),
    Cue.REFERRAL: (
        r"\bnon sono (?:io )?(?:la persona giusta|il referente|la referente|la persona di riferimento)\b",
        r"\b(?:scriva|scrivete|contatti|contattate|si rivolga|rivolgetevi) (?:pure )?(?:a|al|alla|all'|ai)\b",
        r"\bnon (?:lavora|lavoro) più\b",
        r"\bha lasciato (?:l'azienda|la società)\b",
        r"\bin pensione\b",
        r"\bse ne occupa\b",
    ),
    Cue.GATEKEEPER: (
        r"\b(?:inoltro|ho inoltrato|giro|ho girato) (?:la sua|la vostra|il suo|il vostro)? ?(?:mail|e-?mail|messaggio|richiesta)\b",
        r"\b(?:segreteria|centralino|reception)\b",
    ),
    Cue.ABSENCE: (
        r"\b(?:sono|sarò|mi trovo) in (?:malattia|maternità|paternità|congedo|permesso)\b",
        r"\bfuori (?:ufficio|sede)\b",
        r"\bin ferie\b",
        r"\bassente\b",
        r"\bin vacanza\b",
        r"\bal mio rientro\b",
        r"\baccesso limitato\b",
    ),
}

CHANNELS: dict[ChannelWord, tuple[str, ...]] = {
    ChannelWord.EMAIL: (
        r"\b(?:e-?mail|mail|messaggi|newsletter|mailing list|lista|disiscri\w*|scriver\w*|indirizzo)\b",
    ),
    ChannelWord.PHONE: (r"\b(?:chiam\w*|telefon\w*|numero|cellulare)\b",),
    ChannelWord.LINKEDIN: (r"\blinked ?in\b",),
    ChannelWord.ALL: (r"\b(?:contatt\w*|dati|disturb\w*)\b",),
}

LEXICON = Lexicon(
    code="it",
    stopwords=words(
        "il lo la gli le e di che non per con una uno sono siamo grazie saluti cordiali "
        "questo questa mi ci vi della del alla al ma più anche"
    ),
    cues=CUES,
    channels=CHANNELS,
    negators=(r"\bnon\b", r"\bmai\b", r"\bsenza\b", r"\bnessun\w*"),
    scope_breakers=(r"\bper favore\b", r"\bgrazie\b", r"\bcortesemente\b"),
    auto_subjects=(
        r"risposta automatica",
        r"fuori ufficio",
        r"fuori sede",
        r"assente\b",
        r"in ferie\b",
    ),
    reply_prefixes=("r", "rif", "i"),
    months={
        "gennaio": 1,
        "febbraio": 2,
        "marzo": 3,
        "aprile": 4,
        "maggio": 5,
        "giugno": 6,
        "luglio": 7,
        "agosto": 8,
        "settembre": 9,
        "ottobre": 10,
        "ott": 10,
        "novembre": 11,
        "dicembre": 12,
        "dic": 12,
    },
    weekdays={
        "lunedì": 0,
        "martedì": 1,
        "mercoledì": 2,
        "giovedì": 3,
        "venerdì": 4,
        "sabato": 5,
        "domenica": 6,
    },
    numbers={
        "uno": 1,
        "due": 2,
        "tre": 3,
        "quattro": 4,
        "cinque": 5,
        "sei": 6,
        "sette": 7,
        "otto": 8,
        "nove": 9,
        "dieci": 10,
        "dodici": 12,
        "qualche": 3,
    },
    units={
        "giorno": "day",
        "giorni": "day",
        "settimana": "week",
        "settimane": "week",
        "mese": "month",
        "mesi": "month",
        "trimestre": "quarter",
        "trimestri": "quarter",
        "anno": "year",
        "anni": "year",
    },
    ordinals={"primo": 1, "secondo": 2, "terzo": 3, "quarto": 4},
    seasons={"primavera": 3, "estate": 6, "autunno": 9, "inverno": 12},
    parts={"inizio": "early", "metà": "mid", "fine": "end"},
    tomorrow=("domani",),
    timing=(
        r"\b(?:il|dal|dopo il|entro il|fino al|verso il)\s+<<DATE>>",
        r"\b(?:tra|fra|entro)\s+(?:circa |un |una )?(?P<n><<NUM>>)\s+(?P<unit><<UNIT>>)\b",
        r"\b(?:il |l'|la )?(?P<next>settimana|mese|trimestre|anno)\s+(?:prossim[oa]|successiv[oa]|venturo)\b",
        r"\b(?:il |l'|la )?prossim[oa]\s+(?P<next>settimana|mese|trimestre|anno)\b",
        r"\b(?:(?P<after>dopo)|a|ad|in|da|entro|verso|per)\s+(?:(?P<part><<PART>>)\s+)?(?P<month><<MONTH>>)\b(?:\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>dopo il)\s+|nel\s+|il\s+)?(?P<qord><<ORD>>)\s+trimestre\b(?:\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>dopo)\s+(?:l'|la\s+)?|in\s+|a\s+|in\s+)(?P<season><<SEASON>>)\b",
        r"\bdopo (?:le )?(?P<winter>feste|natale)\b",
        r"\bdopo (?:le vacanze di )?(?P<easter>pasqua)\b",
        r"\b(?P<yearend>fine anno|fine dell'anno)\b",
        r"\b(?:(?P<after>dopo il)|nel|dal)\s+(?P<yonly>20\d\d)\b",
    ),
    return_cues=(
        r"fino al",
        r"fino all'",
        r"fino a",
        r"rientro(?: previsto)?(?: il| per il)?",
        r"di ritorno(?: il)?",
        r"sarò di nuovo in ufficio(?: il| dal)?",
        r"dal",
    ),
    back_after=(r"rientro", r"di ritorno", r"di nuovo in ufficio"),
    range_cues=(r"dal",),
    past_markers=(r"scorso|scorsa|da quando|fa",),
)
