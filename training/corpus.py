"""Generate the labelled reply corpus: data/replies/corpus.jsonl.

    python -m training.corpus [--out data/replies/corpus.jsonl] [--per-phrase N] [--seed S]

Core phrases (training.phrases) x fillers (dates, vendors, addresses) x perturbations
(greetings, sign-offs, signatures, quoted pitches with their own unsubscribe footer, typos,
case, missing punctuation, a second language, phone-call notes, auto-reply headers and
subjects), plus the hand-written replies in data/replies/hand.jsonl. Deterministic for a seed.

Splits: every fifth core phrase of each intent and language (and every hand-written reply
marked "heldout") goes to the held-out split; nothing in the rules or the model is fitted to
it. A held-out phrase is never used to make a training reply; phrases written later to probe
the rules (`TRAIN_ONLY`) only make training replies.
"""

# ruff: noqa: E501 -- a pattern or a table row reads best on one line

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from training.phrases import PHRASES, TRAIN_ONLY

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data" / "replies" / "corpus.jsonl"
HAND = ROOT / "data" / "replies" / "hand.jsonl"

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
}  # fmt: skip
WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
VENDORS = ["Stockwise", "Acme Inventory", "ShelfIQ", "Tallyhub", "Countly", "BinMaster Pro",
           "Inventra", "LedgerLoop", "Cratebase", "Palleto"]  # fmt: skip
PEOPLE = ["jane.doe", "m.keller", "procurement", "lucia.garcia", "p.martin", "ops-lead",
          "t.nguyen", "a.schmidt"]  # fmt: skip
FIRST = ["Alex", "Maria", "Jonas", "Claire", "Diego", "Priya", "Tom", "Inès", "Lena", "Pablo"]
COMPANY_DOMAINS = ["northwind.example", "bergmann-logistik.example", "lacoste-distribution.example",
                   "suministros-rio.example", "brightmart.example"]  # fmt: skip

GREETINGS = {
    "en": ["Hi Sam,", "Hello,", "Sam -", "Dear Mr Ortiz,", "Hey,", "Hi there,"],
    "de": ["Hallo Herr Ortiz,", "Sehr geehrter Herr Ortiz,", "Hallo,", "Moin,", "Guten Tag,"],
    "fr": ["Bonjour,", "Bonjour Monsieur Ortiz,", "Salut Sam,", "Madame, Monsieur,"],
    "es": ["Hola,", "Buenos días,", "Estimado Sam:", "Hola Sam,"],
}
CLOSINGS = {
    "en": ["Thanks,", "Best,", "Regards,", "Cheers,", "Kind regards,", "Thx"],
    "de": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "Gruß", "LG"],
    "fr": ["Cordialement,", "Bien à vous,", "Merci,", "Bonne journée,", "Bien cordialement"],
    "es": ["Saludos,", "Un saludo,", "Gracias,", "Atentamente,", "Saludos cordiales"],
}
MOBILE = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
}
PITCH = {
    "en": ("On {when}, Sam Ortiz <sam@harborlight.example> wrote:",
           "Hi {first}, are you interested in a short call about accurate stock counts? "
           "We could talk this week or next quarter, whenever suits you.",
           "If you don't want to hear from us, reply unsubscribe or click here to opt out "
           "of all marketing emails."),
    "de": ("Am {when} schrieb Sam Ortiz <sam@harborlight.example>:",
           "Hallo {first}, hätten Sie Interesse an einem kurzen Gespräch über Inventur? "
           "Gerne auch im nächsten Quartal.",
           "Sie möchten keine E-Mails mehr erhalten? Hier abmelden. Widerspruch gemäß DSGVO "
           "jederzeit möglich."),
    "fr": ("Le {when}, Sam Ortiz <sam@harborlight.example> a écrit :",
           "Bonjour {first}, seriez-vous intéressé par un échange sur vos inventaires ? "
           "Nous pouvons en parler le mois prochain.",
           "Pour ne plus être contacté, cliquez ici pour vous désinscrire. Vos données "
           "personnelles sont traitées conformément au RGPD."),
    "es": ("El {when}, Sam Ortiz (<sam@harborlight.example>) escribió:",
           "Hola {first}, ¿le interesaría una llamada sobre el control de inventario? "
           "Podemos hablar el próximo trimestre.",
           "Si no quiere recibir más correos, haga clic aquí para darse de baja. Sus datos "
           "personales se tratan según el RGPD."),
}  # fmt: skip
OUTLOOK = {
    "en": ("From: Sam Ortiz <sam@harborlight.example>", "Sent: {when}", "Subject: Stock counts"),
    "de": ("Von: Sam Ortiz <sam@harborlight.example>", "Gesendet: {when}", "Betreff: Inventur"),
    "fr": ("De : Sam Ortiz <sam@harborlight.example>", "Envoyé : {when}", "Objet : Inventaires"),
    "es": ("De: Sam Ortiz <sam@harborlight.example>", "Enviado: {when}", "Asunto: Inventario"),
}
SUBJECTS = {
    "en": "Re: Stock counts at {company}",
    "de": "AW: Inventur bei {company}",
    "fr": "RE: Inventaires chez {company}",
    "es": "RE: Inventario en {company}",
}
AUTO_SUBJECTS = {
    "en": [
        "Automatic reply: Stock counts",
        "Out of Office: Stock counts",
        "Auto: Re: Stock counts",
    ],
    "de": ["Automatische Antwort: Inventur", "Abwesenheitsnotiz: Inventur", "Autoreply: Inventur"],
    "fr": ["Réponse automatique : Inventaires", "Absence du bureau : Inventaires"],
    "es": ["Respuesta automática: Inventario", "Fuera de la oficina: Inventario"],
}
AUTO_HEADERS: list[dict[str, str]] = [
    {"Auto-Submitted": "auto-replied"},
    {"X-Autoreply": "yes"},
    {"Precedence": "auto_reply"},
    {"X-Autorespond": "true", "Auto-Submitted": "auto-replied (vacation)"},
    {},  # subject only
]
CALL_NOTES = {
    "en": ["Call note: spoke with {first} - said: {text}", 'Phone call {day}: "{text}"'],
    "de": ["Telefonnotiz: {first} sagt: {text}", "Anruf {day}: {text}"],
    "fr": ["Compte rendu d'appel : {first} dit « {text} »", "Appel du {day} : {text}"],
    "es": ["Nota de llamada: {first} dice: {text}", "Llamada {day}: {text}"],
}
SECOND = {  # a line in another language some prospects add (mixed-language replies)
    "en": ["Sorry, my German is bad.", "(auto-translated)"],
    "de": ["Sorry for the German.", "Bitte auf Deutsch antworten."],
    "fr": ["Sorry, I answer in French.", "Bonne journée"],
    "es": ["Sorry, replying in Spanish.", "Saludos"],
}
NEIGHBOURS = {
    "a": "qs",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "bm",
    "s": "ad",
    "t": "ry",
    "r": "et",
}


def fmt_date(day: date, language: str, rng: random.Random) -> str:
    """A return / follow-up date the way people of that language write it."""
    month = MONTHS[language][day.month - 1]
    weekday = WEEKDAYS[language][day.weekday()]
    styles = {
        "en": [f"{month} {day.day}", f"{day.day} {month}", f"{weekday}, {month} {day.day}",
               f"{day.month}/{day.day}", f"{day.day} {month} {day.year}"],
        "de": [f"{day.day}. {month}", f"{day.day:02d}.{day.month:02d}.", f"{day.day}.{day.month}.{day.year}",
               f"{weekday}, {day.day}. {month}"],
        "fr": [f"{day.day} {month}", f"{weekday} {day.day} {month}", f"{day.day:02d}/{day.month:02d}",
               f"{day.day} {month} {day.year}"],
        "es": [f"{day.day} de {month}", f"{weekday} {day.day} de {month}", f"{day.day}/{day.month}",
               f"{day.day} de {month} de {day.year}"],
    }  # fmt: skip
    return rng.choice(styles[language])


def typo(text: str, rng: random.Random) -> str:
    """One or two keyboard slips: a dropped, doubled or neighbouring letter."""
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        spots = [i for i, c in enumerate(chars) if c.isalpha()]
        if len(spots) < 6:
            break
        i = rng.choice(spots[2:])
        kind = rng.randrange(3)
        if kind == 0:
            del chars[i]
        elif kind == 1:
            chars.insert(i, chars[i])
        else:
            chars[i] = NEIGHBOURS.get(chars[i].lower(), chars[i])[0]
    return "".join(chars)


def quoted_pitch(language: str, first: str, sent: datetime, rng: random.Random) -> str:
    """The pitch the prospect answered, quoted the way one of several clients quotes it."""
    when = (sent - timedelta(days=rng.randint(1, 9))).strftime("%d.%m.%Y %H:%M")
    attribution, pitch, footer = PITCH[language]
    style = rng.randrange(3)
    if style == 0:
        lines = [
            attribution.format(when=when),
            f"> {pitch.format(first=first)}",
            ">",
            f"> {footer}",
        ]
    elif style == 1:
        head = [line.format(when=when) for line in OUTLOOK[language]]
        lines = [
            "________________________________",
            *head,
            "",
            pitch.format(first=first),
            "",
            footer,
        ]
    else:
        lines = [attribution.format(when=when), pitch.format(first=first), footer]
    return "\n".join(lines)


def make_record(
    ident: str,
    intent: str,
    language: str,
    phrase: str,
    split: str,
    rng: random.Random,
) -> dict[str, Any]:
    sent = datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(7, 18), 5, tzinfo=UTC)
    first = rng.choice(FIRST)
    domain = rng.choice(COMPANY_DOMAINS)
    record: dict[str, Any] = {"id": ident, "label": intent, "language": language, "split": split}
    text = phrase
    if "{date}" in text:
        ahead = rng.randint(3, 40) if intent == "out_of_office" else rng.randint(40, 200)
        when = sent.date() + timedelta(days=ahead)
        written = fmt_date(when, language, rng)
        if intent == "not_now" and rng.random() < 0.5:  # a month is how people defer
            written = MONTHS[language][when.month - 1]
            when = date(when.year, when.month, 1)
        text = text.replace("{date}", written)
        if intent == "out_of_office":
            record["return_date"] = when.isoformat()
    text = text.replace("{vendor}", rng.choice(VENDORS))
    text = text.replace("{email}", f"{rng.choice(PEOPLE)}@{domain}")
    auto = intent == "out_of_office" and rng.random() < 0.8
    # perturbations of the prospect's own words
    roll = rng.random()
    if roll < 0.15:
        text = typo(text, rng)
    elif roll < 0.25:
        text = text.lower().rstrip(".!")
    elif roll < 0.30 and len(text) < 60:
        text = text.upper()
    elif roll < 0.38 and not auto:
        text = rng.choice(CALL_NOTES[language]).format(
            first=first, text=text, day=sent.strftime("%d.%m.")
        )
    if not auto and rng.random() < 0.08:
        other = rng.choice([lg for lg in SECOND if lg != language])
        text = f"{text} {rng.choice(SECOND[other])}"
    parts = []
    if rng.random() < 0.55:
        parts.append(rng.choice(GREETINGS[language]))
    parts.append(text)
    if rng.random() < 0.6:
        parts.append(f"{rng.choice(CLOSINGS[language])}\n{first}")
    if rng.random() < 0.2:
        parts.append(MOBILE[language])
    body = "\n\n".join(parts)
    if rng.random() < 0.7:
        body = f"{body}\n\n{quoted_pitch(language, first, sent, rng)}\n"
    company = domain.split(".")[0].replace("-", " ").title()
    subject = SUBJECTS[language].format(company=company)
    headers: dict[str, str] = {}
    if auto:
        headers = dict(rng.choice(AUTO_HEADERS))
        if not headers or rng.random() < 0.5:
            subject = rng.choice(AUTO_SUBJECTS[language])
    if intent == "opt_out" and rng.random() < 0.06:
        subject = rng.choice(["unsubscribe", "REMOVE ME", "Re: unsubscribe", "remove me please"])
    record.update(
        date=format_datetime(sent),
        **{"from": f"{first} <{first.lower()}@{domain}>"},
        subject=subject,
        headers=headers,
        body=body,
    )
    return record


def generate(per_phrase: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for intent, by_language in PHRASES.items():
        for language, phrases in by_language.items():
            for index, phrase in enumerate(phrases):
                split = "heldout" if index % 5 == 4 else "train"
                count = per_phrase + (1 if "{" in phrase else 0)
                for k in range(count):
                    ident = f"g-{intent}-{language}-{index:02d}-{k}"
                    records.append(make_record(ident, intent, language, phrase, split, rng))
    for intent, by_language in TRAIN_ONLY.items():
        for language, phrases in by_language.items():
            for index, phrase in enumerate(phrases):
                for k in range(per_phrase):
                    ident = f"g-{intent}-{language}-t{index:02d}-{k}"
                    records.append(make_record(ident, intent, language, phrase, "train", rng))
    return records


def hand_written() -> list[dict[str, Any]]:
    if not HAND.exists():
        return []
    return [json.loads(line) for line in HAND.read_text(encoding="utf-8").splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--per-phrase", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    records = generate(args.per_phrase, args.seed) + hand_written()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    splits = {s: sum(1 for r in records if r["split"] == s) for s in ("train", "heldout")}
    print(f"{len(records)} replies written to {args.out} ({splits})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
