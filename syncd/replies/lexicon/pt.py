"""Portuguese phrase tables (accents are optional in the text: patterns match folded text)."""

# ruff: noqa: E501 -- a phrase pattern reads best on one line; split, its alternatives hide

from __future__ import annotations

from syncd.replies.lexicon import ChannelWord, Cue, Lexicon, words

_REMOVE = (
    r"(?:removam|remova|retirem|retire|tirem|tire|excluam|exclua|apaguem|apague|eliminem|elimine)"
)

CUES: dict[Cue, tuple[str, ...]] = {
    Cue.OPT_OUT: (
        rf"\b{_REMOVE}[- ](?:me|nos)\b",
        rf"\b{_REMOVE} (?:o )?(?:meu|nosso) (?:e-?mail|endereço|contacto|contato|nome|número)\b",
        rf"\b{_REMOVE} (?:o meu|o nosso|meu|nosso) (?:e-?mail|endereço|contacto|contato|nome|número)\b",
        r"\b(?:parem|pare|deixem|deixe) de (?:me |nos )?(?:enviar|mandar|contactar|contatar|ligar|escrever)\w*",
        r"\bquero (?:ser )?(?:removid[oa]|descadastrad[oa]|excluíd[oa])\b",
        r"\b(?:me )?descadastr(?:e|em|ar)\b",
    ),
    Cue.OPT_OUT_FIRM: (
        r"\bnão (?:quero|desejo|queremos|desejamos) (?:mais )?(?:\w+ ){0,2}?(?:receber|ser contactad\w*|ser contatad\w*|e-?mails?|mensagens|ligações|chamadas)\b",
        r"\bnão (?:me|nos) (?:contactem|contatem|liguem|enviem|mandem|escrevam|contacte|contate|ligue|envie) mais\b",
        r"\bnão (?:me|nos) (?:voltem|volte) a (?:contactar|contatar|ligar|enviar|escrever)\b",
    ),
    Cue.OPT_OUT_BARE: (r"\bdescadastr\w*",),
    Cue.ERASURE: (
        r"\b(?:apaguem|eliminem|excluam|apagar|eliminar|excluir) (?:todos )?os (?:meus|nossos) dados\b",
        r"\bdireito (?:de oposição|ao apagamento|à eliminação|ao esquecimento)\b",
        r"\b(?:oponho-me|me oponho) ao (?:tratamento|uso)\b",
    ),
    Cue.NOT_A_REQUEST: (
        r"\bpara (?:deixar de receber|cancelar (?:a )?(?:sua )?inscrição|se descadastrar)\b",
        r"\bcancelar inscrição\s*\Z",
    ),
    Cue.HOSTILE: (r"\bperda de tempo\b", r"\bde jeito nenhum\b"),
    Cue.NOT_INTERESTED: (
        r"\bnão (?:é|e) (?:para|pra) (?:nós|mim)\b",
        r"\b(?:vamos|vou|temos de|temos que|preferimos|prefiro) (?:recusar|declinar)\b",
        r"\bnão (?:temos|tenho) (?:nenhum )?interesse\b",
        r"\bnão (?:estamos|estou) interessad\w*",
        r"\bsem interesse\b",
        r"\bnão,? obrigad[oa]\b",
        r"\bobrigad[oa],? mas não\b",
        r"\bnão (?:nos|me) interessa\b",
        r"\bnão (?:precisamos|necessitamos)\b",
    ),
    Cue.NOT_NOW: (
        r"\bagora não\b",
        r"\bnão (?:é|e) (?:o|um) (?:bom )?momento\b",
        r"\b(?:neste|no|de) momento não\b",
        r"\bmais (?:tarde|para a frente|adiante)\b",
        r"\btalvez (?:no próximo|mais tarde|depois|para o ano)\b",
        r"\bsem (?:orçamento|verba)\b",
    ),
    Cue.INTERESTED: (
        r"\b(?:para|pra) (?:nos |me )?(?:mostrar|demonstrar|apresentar) (?:a |o )?(?:solução|produto|plataforma|ferramenta|demo)\b",
        r"\b(?:tenho|temos) interesse\b",
        r"\b(?:estou|estamos) (?:muito )?interessad\w*",
        r"\b(?:podemos|poderíamos) (?:marcar|agendar|falar|conversar)\b",
        r"\b(?:marcar|agendar) (?:uma )?(?:reunião|chamada|demo|demonstração|conversa)\b",
        r"\b(?:enviem|envie|mandem|mande)[- ]?(?:me|nos)? (?:\w+ ){0,2}?(?:proposta|orçamento|informações|informação|apresentação|preços)\b",
        r"(?:\A|[.!?,\n]\s*)(?:sim|claro|com certeza)\b(?!,? (?:mas|não))",
        r"\b(?:me|nos) interessa\b",
        r"\bligue-me\b",
    ),
    Cue.COMPETITOR: (
        r"\boutro fornecedor\b",
        r"\bfornecedor atual\b",
        r"\bconcorrente\b",
    ),
    Cue.COMPETITOR_NAMED: (
        r"\b(?:usamos|utilizamos|trabalhamos com) (?:já |atualmente |agora )?(?:a |o )?<<name>>",
        r"\b(?:escolhemos|optámos por|optamos por|contratámos|contratamos|fechámos com|fechamos com|mudámos para|mudamos para) (?:a |o )?<<name>>",
    ),
    Cue.REFERRAL: (
        r"\bnão sou a pessoa (?:certa|indicada)\b",
        r"\b(?:fale|falem|contacte|contate|escreva) (?:com|para) (?:o |a )?(?:nosso|nossa|meu|minha)\b",
        r"\bjá não trabalh\w*",
        r"\bdeixou a empresa\b",
        r"\bquem (?:trata|cuida) disso\b",
    ),
    Cue.GATEKEEPER: (
        r"\b(?:encaminhei|vou encaminhar|reencaminhei)\b",
        r"\b(?:secretária|receção|recepção)\b",
    ),
    Cue.ABSENCE: (
        r"\b(?:estou|estarei|encontro-me) de (?:baixa|licença)\b",
        r"\bde férias\b",
        r"\bfora do escritório\b",
        r"\bausente\b",
        r"\bacesso limitado\b",
        r"\b(?:no meu regresso|quando regressar|no meu retorno)\b",
    ),
}

CHANNELS: dict[ChannelWord, tuple[str, ...]] = {
    ChannelWord.EMAIL: (
        r"\b(?:e-?mails?|mensagens|lista|newsletter|descadastr\w*|enviar|escrever)\b",
    ),
    ChannelWord.PHONE: (
        r"\b(?:ligar|liguem|ligações|chamadas|telefone\w*|número|telemóvel|celular)\b",
    ),
    ChannelWord.LINKEDIN: (r"\blinked ?in\b",),
    ChannelWord.ALL: (r"\b(?:contact\w*|contat\w*|dados)\b",),
}

LEXICON = Lexicon(
    code="pt",
    stopwords=words(
        "o a os as e de do da dos das não nao que para com um uma obrigado obrigada "
        "cumprimentos meu minha nosso nossa mas já ja agora podemos temos estou"
    ),
    cues=CUES,
    channels=CHANNELS,
    negators=(r"\bnão\b", r"\bnunca\b", r"\bsem\b", r"\bnenhum\w*"),
    scope_breakers=(r"\bpor favor\b", r"\bobrigad[oa]\b"),
    auto_subjects=(
        r"resposta automática",
        r"ausente\b",
        r"ausência\b",
        r"fora do escritório",
        r"de férias\b",
    ),
    reply_prefixes=("res", "enc"),
    months={
        "janeiro": 1,
        "fevereiro": 2,
        "fev": 2,
        "março": 3,
        "abril": 4,
        "abr": 4,
        "maio": 5,
        "junho": 6,
        "julho": 7,
        "agosto": 8,
        "setembro": 9,
        "outubro": 10,
        "novembro": 11,
        "dezembro": 12,
    },
    weekdays={
        "segunda-feira": 0,
        "segunda": 0,
        "terça-feira": 1,
        "terça": 1,
        "quarta-feira": 2,
        "quarta": 2,
        "quinta-feira": 3,
        "quinta": 3,
        "sexta-feira": 4,
        "sexta": 4,
        "sábado": 5,
        "domingo": 6,
    },
    numbers={
        "um": 1,
        "uma": 1,
        "dois": 2,
        "duas": 2,
        "três": 3,
        "quatro": 4,
        "cinco": 5,
        "seis": 6,
        "sete": 7,
        "oito": 8,
        "nove": 9,
        "dez": 10,
        "doze": 12,
        "alguns": 3,
    },
    units={
        "dia": "day",
        "dias": "day",
        "semana": "week",
        "semanas": "week",
        "mês": "month",
        "meses": "month",
        "trimestre": "quarter",
        "trimestres": "quarter",
        "ano": "year",
        "anos": "year",
    },
    ordinals={"primeiro": 1, "segundo": 2, "terceiro": 3, "quarto": 4},
    seasons={"primavera": 3, "verão": 6, "outono": 9, "inverno": 12},
    parts={"início": "early", "meados": "mid", "final": "end", "fim": "end"},
    tomorrow=("amanhã",),
    timing=(
        r"\b(?:a partir de|depois de|até)\s+<<DATE>>",
        r"\b(?:daqui a|dentro de|em|após)\s+(?:cerca de )?(?P<n><<NUM>>)\s+(?P<unit><<UNIT>>)\b",
        r"\b(?:n?o |n?a )?próxim[oa]\s+(?P<next>semana|mês|trimestre|ano)\b",
        r"\b(?:o |no |na )?(?P<next>semana|mês|trimestre|ano)\s+que vem\b",
        r"\b(?:(?P<after>depois de|após)|em|a partir de)\s+(?:(?P<part><<PART>>)\s+de\s+)?(?P<month><<MONTH>>)\b(?:\s+de\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>depois do|após o)\s+|no\s+)?(?P<qord><<ORD>>)\s+trimestre\b(?:\s+de\s+(?P<year>20\d\d))?",
        r"\b(?:(?P<after>depois d[oa])\s+|n[oa]\s+)(?P<season><<SEASON>>)\b",
        r"\b(?P<yearend>(?:no )?final do ano|fim do ano)\b",
        r"\b(?:depois d[ao]|após a?) ?(?P<easter>páscoa)\b",
        r"\b(?:(?P<after>depois de)|em)\s+(?P<yonly>20\d\d)\b",
    ),
    return_cues=(
        r"até (?:ao|à|a|o)",
        r"até",
        r"de volta(?: a| em| no dia)?",
        r"regresso(?: a| em| no dia)?",
        r"retorno(?: em| no dia)?",
    ),
    back_after=(r"de volta", r"regresso"),
    range_cues=(r"de",),
    past_markers=(r"passado|passada|desde|atrás",),
)
