"""Wraps hand-written reply cores into realistic mails (greeting, sign-off, footer, quote)."""
from __future__ import annotations
import json, random, sys
from pathlib import Path

GREET = {
    "en": ["Hi {s},", "Hello {s},", "Hey {s}", "{s},", "", "", "Hi,", "Good morning {s},"],
    "de": ["Hallo {s},", "Guten Tag Herr {S},", "Hi {s},", "", "Sehr geehrte Frau {S},", "Moin,"],
    "fr": ["Bonjour {s},", "Bonjour,", "", "Bonjour Monsieur {S},", "Salut {s},"],
    "es": ["Hola {s},", "Buenos días,", "", "Hola,", "Estimado {s}:"],
    "nl": ["Hoi {s},", "Beste {s},", "", "Goedemorgen,"],
    "it": ["Ciao {s},", "Buongiorno,", "", "Gentile {s},"],
    "pt": ["Olá {s},", "Bom dia,", "", "Oi {s},"],
}
SIGN = {
    "en": ["Thanks,\n{n}", "Best,\n{n}\n{t} | {c}\n+1 415 555 01{r}", "Cheers\n{n}", "{n}", "-- \n{n}\n{c}", "Regards,\n{n}", ""],
    "de": ["Viele Grüße\n{n}", "Mit freundlichen Grüßen\n\n{n}\n{t}\n{c} GmbH\nTel. +49 89 1234 5{r}", "Gruß {n}", "VG\n{n}", ""],
    "fr": ["Cordialement,\n{n}", "Bien à vous,\n{n}\n{t} - {c}", "Bonne journée\n{n}", ""],
    "es": ["Saludos,\n{n}", "Un saludo\n{n}\n{t}\n{c} S.L.", "Gracias,\n{n}", ""],
    "nl": ["Met vriendelijke groet,\n{n}", "Groet,\n{n}", ""],
    "it": ["Cordiali saluti,\n{n}", "Saluti\n{n}", ""],
    "pt": ["Atenciosamente,\n{n}", "Abraço,\n{n}", ""],
}
MOBILE = {
    "en": ["Sent from my iPhone", "Get Outlook for iOS", "Sent from my Galaxy"],
    "de": ["Von meinem iPhone gesendet"], "fr": ["Envoyé de mon iPhone"],
    "es": ["Enviado desde mi iPhone"], "nl": ["Verstuurd vanaf mijn iPhone"],
    "it": ["Inviato da iPhone"], "pt": ["Enviado do meu iPhone"],
}
WROTE = {
    "en": "On {d}, {sn} <{se}> wrote:", "de": "Am {d} schrieb {sn} <{se}>:",
    "fr": "Le {d}, {sn} <{se}> a écrit :", "es": "El {d}, {sn} <{se}> escribió:",
    "nl": "Op {d} schreef {sn} <{se}>:", "it": "Il giorno {d} {sn} <{se}> ha scritto:",
    "pt": "Em {d}, {sn} <{se}> escreveu:",
}
NAMES = ["Dana Whitfield", "Jonas Keller", "Claire Dubois", "Lucía Romero", "Pieter de Vries",
         "Giulia Conti", "Rafael Souza", "Megan O'Neill", "Tom Brandt", "Sofia Martins",
         "Ahmed Khan", "Katrin Vogel", "Julien Morel", "Marta Gil", "Bram Jansen"]
TITLES = ["Head of Operations", "IT Manager", "COO", "Office Manager", "Directeur financier",
          "Einkaufsleiter", "Responsable de compras", "VP Finance"]


def build(spec_file: str, out: str, seed: int) -> None:
    ns: dict[str, object] = {}
    exec(Path(spec_file).read_text(encoding="utf-8"), ns)
    items = ns["ITEMS"]; seller = ns["SELLER"]; pitch = ns["PITCH"]; dates = ns["DATES"]
    rnd = random.Random(seed)
    lines = []
    for i, it in enumerate(items, 1):
        label, lang, core = it[0], it[1], it[2]
        extra = it[3] if len(it) > 3 else {}
        name = rnd.choice(NAMES); first = name.split()[0]
        company = rnd.choice(["Norvik", "Aldera", "Kessler & Co", "Bluefin Logistics", "Orchard Health", "Vantis", "Marlow Foods"])
        dom = company.lower().split()[0].replace("&", "") + ".example"
        sent = extra.get("date") or dates[i % len(dates)]
        body = core
        raw = extra.get("raw", False)
        if not raw:
            g = rnd.choice(GREET[lang]).format(s=seller[0].split()[0], S=seller[0].split()[1])
            s = rnd.choice(SIGN[lang]).format(n=first if rnd.random() < .5 else name, t=rnd.choice(TITLES), c=company, r=rnd.randint(10, 99))
            body = (g + "\n\n" if g else "") + core + ("\n\n" + s if s else "")
            if rnd.random() < 0.3:
                body += "\n\n" + rnd.choice(MOBILE[lang])
        if extra.get("quote", rnd.random() < 0.7):
            qd = "Mon, 9 Mar 2026 at 16:02"
            body += "\n\n" + WROTE[lang].format(d=qd, sn=seller[0], se=seller[1]) + "\n" + "\n".join("> " + l for l in pitch[lang].splitlines())
        rec = {"id": f"{out[0]}{i:03d}", "date": sent, "from": f"{name} <{first.lower()}@{dom}>",
               "subject": extra.get("subject", "Re: " + pitch["subject"]),
               "headers": extra.get("headers", {}), "body": body, "label": label, "lang": lang}
        for k in ("channels", "return_date", "followup_after", "referral_email", "competitor"):
            if k in extra:
                rec[k] = extra[k]
        lines.append(json.dumps(rec, ensure_ascii=False))
    Path(out if "/" in out else Path(spec_file).parent / (out + ".jsonl")).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2], int(sys.argv[3]))
