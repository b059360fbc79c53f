"""Dutch phrase tables (patterns over folded text: lower case, no accents, straight quotes)."""

# ruff: noqa: E501 -- a phrase pattern reads best on one line; split, its alternatives hide

from __future__ import annotations

from syncd.replies.lexicon import ChannelWord, Cue, Lexicon, words

_ME = r"(?:mij|me|ons|mijn (?:e-?mailadres|adres|naam|nummer|gegevens)|dit (?:e-?mail)?adres)"
_CONTACT = r"(?:mailen|e-?mailen|bellen|benaderen|contacteren|sturen|storen|lastigvallen)"
# Where a list of what not to do ("niet bellen, niet mailen") may end: punctuation, the next
# item, "a.u.b.". "Niet bellen voor 10 uur" goes on: a wish about the time.
_LIST_END = r"(?=[ \t]*(?:[.!;\n]|,(?!\s*(?:voordat|tot|totdat|tenzij)\b)|\Z|a\.?u\.?b\b|(?:en|of|noch|aub|alsjeblieft|alstublieft|svp|graag|bedankt|dank|meer|ook)\b))"
# "Bel me niet voor 10 uur" is a wish about the time, not an opt-out
_NOT_SCHEDULING = r"(?!\s+(?:voor|na|tot|tussen|vandaag|morgen|deze|volgende|volgend|op|om|in de|'s|tijdens|nu|maandag|dinsdag|woensdag|donderdag|vrijdag)\b)"

CUES: dict[Cue, tuple[str, ...]] = {
    Cue.OPT_OUT: (
        rf"\b(?:haal|verwijder|schrap|zet) {_ME} (?:\w+ ){{0,3}}?(?:van|uit)\b",
        rf"\b(?:verwijder|schrap) {_ME}\b",
        r"\b(?:graag|gelieve|wil(?:t)? (?:je|u)) (?:mij |me |ons )?(?:uitschrijven|afmelden|verwijderen)\b",
        r"\b(?:wil|willen) (?:graag )?(?:worden )?(?:uitgeschreven|afgemeld|verwijderd)\b",
        rf"\b(?:stop|stopt|stoppen) (?:nu )?met (?:het |die |deze |jullie )?(?:{_CONTACT}|mails|e-?mails|berichten|spam)\b",
        r"\bdit is spam\b",
        r"\blaat (?:mij|me|ons) (?:met rust|verder met rust)\b",
    ),
    Cue.OPT_OUT_FIRM: (
        r"\b(?:ik|wij|we) (?:wil|willen) (?:geen|niet langer|niet meer) (?:\w+ ){0,2}?(?:e-?mails?|mails?|berichten|nieuwsbrieven|telefoontjes|gebeld|gemaild|benaderd|ontvangen)\b",
        r"\bgeen (?:e-?mails?|mails|berichten|telefoontjes|nieuwsbrieven|spam) meer\b",
        r"\b(?:bel|mail|benader|contacteer|stuur) (?:mij|me|ons) (?:niet|nooit) (?:meer|weer|langer)\b",
        rf"\bniet (?:meer|langer) (?:\w+ ){{0,2}}?{_CONTACT}\b",
        # a list of what not to do: "Niet bellen en niet mailen", "Bel me niet, mail me niet",
        # "Geen telefoontjes en geen mails meer"
        rf"(?:\A|[.!?,;:\n]\s*)(?:en |maar |graag |a\.?u\.?b\.? |alsjeblieft )?(?:ook )?niet (?:meer )?(?:bellen|opbellen|mailen|e-?mailen|benaderen|contacteren|sms'?en|appen)\b{_LIST_END}",
        rf"\b(?:en|of|graag) (?:ook )?niet (?:meer )?(?:bellen|opbellen|mailen|e-?mailen|benaderen|contacteren|sms'?en|appen)\b{_LIST_END}",
        rf"\b(?:bel|mail|e-?mail|benader|contacteer|sms|app) (?:mij|me|ons) (?:ook )?niet\b{_NOT_SCHEDULING}{_LIST_END}",
        rf"(?:\A|[.!?,;:\n]\s*)(?:en |maar |graag |a\.?u\.?b\.? |alsjeblieft )?(?:ook )?geen (?:telefoontjes|telefoon|oproepen|e-?mails?|mails|berichten|nieuwsbrieven|sms'?jes)\b{_LIST_END}",
        rf"\b(?:en|of|graag) (?:ook )?geen (?:telefoontjes|telefoon|oproepen|e-?mails?|mails|berichten|nieuwsbrieven|sms'?jes)\b{_LIST_END}",
        r"\bnoch (?:\w+ )?(?:bellen|mailen|e-?mailen|telefoontjes|e-?mails|mails|berichten) noch\b",
    ),
    Cue.OPT_OUT_BARE: (
        r"\buitschrijven\b",
        r"\buitgeschreven\b",
        r"\A\W*(?:graag )?afmelden\W*\Z",
    ),
    Cue.ERASURE: (
        r"\b(?:verwijder|wis|vernietig) (?:al )?(?:mijn|onze) (?:persoons)?gegevens\b",
        r"\b(?:artikel|art\.?) ?(?:17|21) (?:van de )?avg\b",
        r"\bbezwaar tegen (?:de |het )?(?:verwerking|gebruik)\b",
        r"\brecht op (?:vergetelheid|verwijdering|bezwaar)\b",
    ),
    Cue.NOT_A_REQUEST: (
        r"\b(?:klik|ga) hier om (?:je|u|jezelf) af te melden\b",
        r"\bom (?:je|u) af te melden\b",
        r"\bafmelden voor (?:deze|onze) (?:berichten|nieuwsbrief|mails)\b",
        r"\bgeen e-?mails meer ontvangen\s*\?",
    ),
    Cue.HOSTILE: (
        r"\bgeen sprake van\b",
        r"\bzonde van (?:mijn|onze) tijd\b",
        r"\babsoluut niet\b",
    ),
    Cue.NOT_INTERESTED: (
        r"\bniets voor (?:ons|mij)\b",
        r"\b(?:we|wij|ik) (?:slaan|sla) (?:het|dit|deze|die) (?:\w+ )?over\b",
        r"\bgeen (?:interesse|behoefte)\b",
        r"\bniet ge[i]?nteresseerd\b",
        r"\b(?:nee|neen),? (?:bedankt|dank (?:je|u)(?: wel)?)\b",
        r"(?:\A|[.!?\n]\s*)nee\b(?=\s*(?:[.!,]|bedankt|dank|\Z))",
        r"\bniet (?:nodig|relevant|interessant|van toepassing|voor ons)\b",
        r"\binteresseert (?:ons|me|mij) niet\b",
        r"\b(?:hebben|heb) (?:hier )?(?:geen|niets) (?:behoefte|nodig)\b",
        r"\bwe (?:doen|regelen) (?:dit|dat|het) (?:zelf|intern)\b",
    ),
    Cue.NOT_NOW: (
        r"\b(?:op dit moment|momenteel|nu even|nu|voorlopig) (?:even )?niet\b",
        r"\bniet (?:nu|op dit moment|dit jaar|dit kwartaal|voorlopig)\b",
        r"\bmisschien (?:later|volgend jaar|over|na)\b",
        r"\b(?:geen|weinig) (?:tijd|budget|capaciteit)\b",
        r"\b(?:kom|komen) (?:hier )?(?:later|volgend jaar) (?:op )?terug\b",
        r"\bniet het (?:goede |juiste )?moment\b",
        r"\bneem (?:\w+ ){0,4}?(?:opnieuw |nog eens |weer )?contact (?:met (?:mij|me|ons) )?op\b(?! met)",
    ),
    Cue.INTERESTED: (
        r"\bstuur (?:me |mij |ons )?(?:maar |gerust |even |alvast |dan )*(?:(?!geen\b|niets\b|niks\b|nooit\b)[\w-]+ ){0,3}?(?:informatie|info|offerte|voorstel|demo[\w-]*|link|uitnodiging|tijden|tijdstippen|mailtje|agenda\w*)\b(?! meer)",
        r"(?:\A|[.!?,\n]\s*)(?:ja|graag|zeker|prima)\b(?!,? (?:maar|niet|uitschrijven|afmelden))",
        r"\b(?:klinkt|lijkt) (?:erg |heel |zeer )?(?:goed|interessant|mooi)\b",
        r"\bstuur (?:me|mij|ons) (?:\w+ ){0,3}?(?:informatie|info|offerte|voorstel|prijzen|prijslijst|brochure)\b",
        r"\b(?:een )?(?:afspraak|demo|gesprek|belletje|kennismaking) (?:maken|plannen|inplannen|inplannen)\b",
        r"\blaten we (?:een )?(?:afspraak|gesprek|call|demo|kennismaking|belletje)\b",
        r"\b(?:ik ben|we zijn|wij zijn) (?:zeer |erg |wel |zeker |heel )?ge[i]?nteresseerd\b",
        r"\bbel (?:me|mij) (?:maar|gerust|morgen|even)\b",
        r"\bmeer (?:informatie|info|weten)\b",
    ),
    Cue.COMPETITOR: (
        r"\b(?:een andere|andere) (?:leverancier|partij|aanbieder|oplossing)\b",
        r"\bhuidige (?:leverancier|aanbieder|partner|oplossing)\b",
        r"\been (?:contract|overeenkomst) (?:met|bij)\b",
    ),
    Cue.COMPETITOR_NAMED: (
        r"\b(?:werken|werk) (?:al|nu|inmiddels|momenteel|tegenwoordig) (?:jaren )?met <<name>>",
        r"\b(?:gebruiken|gebruik) (?:al|nu|inmiddels|momenteel|tegenwoordig) <<name>>",
        r"\b(?:gekozen voor|overgestapt (?:naar|op)|getekend (?:bij|met)) <<name>>",
    ),
    Cue.REFERRAL: (
        r"\b(?:ik ben|ben) niet de (?:juiste|aangewezen) (?:persoon|contactpersoon)\b",
        r"\bdaar ga ik niet over\b",
        r"\b(?:neem|neemt|kunt u|kun je) (?:beter |het beste )?contact op met\b",
        r"\b(?:werkt|werk) (?:hier )?niet meer (?:bij|hier)\b",
        r"\bis niet meer (?:werkzaam|in dienst)\b",
        r"\bheeft (?:het bedrijf|ons) verlaten\b",
        r"\bmet pensioen\b",
        r"\b(?:probeer|mail|benader) (?:het )?(?:eens )?(?:bij |naar )?(?:mijn collega|onze|\S+@)",
    ),
    Cue.GATEKEEPER: (
        r"\b(?:ik stuur|ik heb) (?:het|dit|uw bericht|je bericht) (?:door|doorgestuurd)\b",
        r"\b(?:secretaresse|secretariaat|receptie)\b",
    ),
    Cue.ABSENCE: (
        r"\bafwezig\b",
        r"\b(?:met|op) vakantie\b",
        r"\b(?:niet op|buiten) kantoor\b",
        r"\bmet verlof\b",
        r"\bweer aanwezig\b",
        r"\bbij (?:mijn )?terugkomst\b",
        r"\bniet (?:bereikbaar|doorgestuurd)\b",
    ),
}

CHANNELS: dict[ChannelWord, tuple[str, ...]] = {
    ChannelWord.EMAIL: (
        r"\b(?:e-?mails?|mails?|mailen|e-?mailen|gemaild|schrijv\w*|berichten|nieuwsbrie\w+|mailinglijst|lijst|uitschrijv\w*|afmeld\w*)\b",
    ),
    ChannelWord.PHONE: (
        r"\b(?:bellen|opbellen|gebeld|bel|belt|telefo\w+|nummer|mobiel|oproep\w*|sms\w*)\b",
    ),
    ChannelWord.LINKEDIN: (r"\blinked ?in\b",),
    ChannelWord.ALL: (r"\b(?:contact\w*|gegevens|benader\w*|met rust)\b",),
}

LEXICON = Lexicon(
    code="nl",
    stopwords=words(
        "de het een en ik wij we jullie u niet geen met voor van op dit dat zijn is graag "
        "bedankt groet groeten mij mijn ons onze naar ook maar nu even wel"
    ),
    cues=CUES,
    channels=CHANNELS,
    negators=(r"\bniet\b", r"\bgeen\b", r"\bnooit\b"),
    negators_after=(r"\bniet\b",),
    scope_breakers=(r"\bgraag\b", r"\balstublieft\b", r"\baub\b", r"\bbedankt\b"),
    auto_subjects=(
        r"automatisch antwoord",
        r"afwezig\b",
        r"niet aanwezig",
        r"buiten kantoor",
        r"afwezigheidsbericht",
    ),
    reply_prefixes=("antw", "doorst"),
    months={
        "januari": 1,
        "februari": 2,
        "maart": 3,
        "mrt": 3,
        "april": 4,
        "mei": 5,
        "juni": 6,
        "juli": 7,
        "augustus": 8,
        "september": 9,
        "oktober": 10,
        "november": 11,
        "december": 12,
    },
    weekdays={
        "maandag": 0,
        "dinsdag": 1,
        "woensdag": 2,
        "donderdag": 3,
        "vrijdag": 4,
        "zaterdag": 5,
        "zondag": 6,
    },
    numbers={
        "een": 1,
        "twee": 2,
        "drie": 3,
        "vier": 4,
        "vijf": 5,
        "zes": 6,
        "zeven": 7,
        "acht": 8,
        "negen": 9,
        "tien": 10,
        "twaalf": 12,
        "een paar": 3,
        "paar": 3,
        "enkele": 3,
    },
    units={
        "dag": "day",
        "dagen": "day",
        "weken": "week",
        "maand": "month",
        "maanden": "month",
        "kwartaal": "quarter",
        "kwartalen": "quarter",
        "jaar": "year",
        "jaren": "year",
    },
    ordinals={"eerste": 1, "tweede": 2, "derde": 3, "vierde": 4},
    seasons={"voorjaar": 3, "lente": 3, "zomer": 6, "najaar": 9, "herfst": 9},
    parts={"begin": "early", "medio": "mid", "half": "mid", "eind": "end", "einde": "end"},
    tomorrow=("morgen",),
    timing=(
        r"\b(?:op|na|vanaf|tot|rond|voor)\s+<<DATE>>",
        r"\b(?:over|binnen|na)\s+(?:ongeveer |circa |zo'n )?(?P<n><<NUM>>)\s+(?P<unit><<UNIT>>)\b",
        r"\b(?:(?P<part><<PART>>)\s+)?(?:de |het )?volgende?\s+(?P<next>week|maand|kwartaal|jaar)\b",
        r"\b(?:(?P<after>na)|in|vanaf|rond|tot|voor)\s+(?:(?P<part><<PART>>)\s+)?(?P<month><<MONTH>>)\b(?:\s+(?P<year>20\d\d))?",
        r"\b(?P<part><<PART>>)\s+(?P<month><<MONTH>>)\b(?:\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>na)\s+|in\s+)?(?:het\s+)?(?:[qk](?P<q>[1-4])|(?P<qord><<ORD>>)\s+kwartaal)\b(?:\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>na)\s+(?:de\s+)?|in\s+(?:de\s+|het\s+)?)(?P<season><<SEASON>>)\b",
        r"\bna de (?P<winter>feestdagen|kerst|jaarwisseling)\b",
        r"\bna de (?P<summer>zomervakantie|zomer)\b",
        r"\bna (?:de )?(?P<easter>pasen|paasvakantie|paasdagen)\b",
        r"\b(?P<yearend>eind (?:van )?dit jaar|(?:aan het )?einde van het jaar)\b",
        r"\b(?:(?P<after>na)|in|vanaf)\s+(?P<yonly>20\d\d)\b",
    ),
    return_cues=(
        r"tot en met",
        r"t/m",
        r"tot",
        r"(?:weer )?terug (?:op|vanaf)",
        r"(?:weer )?aanwezig (?:op|vanaf)",
        r"weer op kantoor(?: op| vanaf)?",
    ),
    back_after=(r"weer (?:aanwezig|terug|op kantoor|bereikbaar|beschikbaar)", r"terug"),
    range_cues=(r"van",),
    past_markers=(r"vorige|afgelopen|sinds|geleden",),
)
