"""The wording automatic mail uses, per language: one table, read by the classifier.

Headers and structure (RFC 3834, RFC 3464, RFC 5965, the envelope sender)
decide first; these phrases catch what carries no header: out-of-office notices
written by hand or by old servers, autoresponders, challenge-response systems
and delay warnings. Each language lists regex fragments (matched
case-insensitively, on the message's own text, never on a quoted original).

Categories:
- `ooo_subject`: subjects only absence notices use (safe even after "Re:").
- `ooo_body`: the sentence of an absence notice ("I am out of the office until…").
- `auto_subject` / `auto_body`: other autoresponders ("Thank you for your
  e-mail, we have received it", ticket confirmations).
- `challenge`: challenge-response filters asking the sender to verify.
- `delay`: delivery-delay warnings ("still being retried").
- `bounce_subject`: subjects of non-delivery reports ("Undeliverable",
  "Unzustellbar", "配信エラー"); they count only beside a daemon or null sender
  or failure wording (dsn.looks_like_bounce). A language without the key has
  none known.
- `until`: the word before a return date ("back on", "bis", "do").

The languages cover the 15 most used in business mail and then some: en, zh,
es, de, fr, ja, pt, ru, it, ko, nl, pl, tr, ar, sv, da, no, fi, cs, hu, el, ro, hi.
"""

from __future__ import annotations

import re
from functools import cache

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "ooo_subject": (r"out of (?:the )?office", r"away from (?:the |my )?(?:office|desk)", r"^\s*auto:",
                        r"\bon (?:annual |parental |maternity |sick )?leave\b", r"\bon vacation\b", r"\bon holiday\b"),
        "ooo_body": (r"i(?: am|'m) (?:currently )?(?:out of|away from) (?:the|my) (?:office|desk)",
                     r"i (?:am|will be) (?:currently )?(?:out|away|on (?:vacation|holiday|leave|annual leave|parental leave|maternity leave|sick leave))\b",
                     r"i(?: am|'m) currently (?:away|travell?ing|on leave|on vacation|out)",
                     r"limited (?:access to (?:e-?mail|my e-?mail)|e-?mail access)",
                     r"(?:respond|reply|get back to you|answer)[^.]{0,40}(?:upon|when|as soon as|after) (?:my )?return",
                     r"i(?: will|'ll) be back (?:in the office )?on", r"out of (?:the )?office (?:until|till|from)"),
        "auto_subject": (r"automatic reply", r"auto[- ]?(?:matic )?(?:reply|response|responder|answer)", r"autoreply",
                         r"(?:we (?:have )?received|receipt of) your (?:e-?mail|message|request)",
                         r"thank(?:s| you) for (?:your )?(?:e-?mail|message|contacting)"),
        "auto_body": (r"this is an auto(?:matic|mated)?[- ]?(?:reply|response|generated (?:message|reply|e-?mail))",
                      r"(?:thank you for|thanks for) (?:your (?:e-?mail|message|enquiry|inquiry)|contacting us)[^.]{0,80}(?:received|get back|respond|reply|contact you)",
                      r"we (?:have )?received your (?:e-?mail|message|request|enquiry|inquiry)",
                      r"(?:please )?do not reply to this (?:e-?mail|message)",
                      r"a (?:support )?ticket (?:has been|was) (?:created|opened)"),
        "challenge": (r"(?:verify|confirm) (?:that )?you are (?:a )?(?:human|real person|not a (?:robot|spammer))",
                      r"(?:added|add you|be added) to (?:my|the|our) (?:approved|allowed|safe|trusted|white)[- ]?(?:senders? )?list",
                      r"(?:allowed|approved) senders? list", r"\bwhite-?list(?:ed|ing)?\b",
                      r"this (?:account|mailbox|e-?mail address) is protected",
                      r"(?:your|the) message (?:is|has been) (?:being )?(?:held|queued|quarantined)[^.]{0,60}(?:until|pending|verif)",
                      r"(?:awaiting|pending|requires?) (?:your )?(?:sender )?(?:verification|confirmation)",
                      r"sender (?:is )?not (?:yet )?(?:pre-?approved|verified)",
                      r"click (?:on )?(?:the|this) (?:following )?link (?:below )?to (?:verify|confirm|deliver|complete)",
                      r"challenge[- ]response", r"to complete (?:this|the) verification"),
        "bounce_subject": (r"undeliver(?:ed|able)", r"delivery status notification(?! \((?:success|relay)\))", r"^\s*delivery status\s*$",
                           r"(?:failed|failure) delivery", r"mail failed", r"returning (?:message )?to sender",
                           r"mail delivery (?:failed|failure|problem|system)", r"delivery (?:has )?failed", r"delivery failure",
                           r"failure notice", r"returned mail", r"returned to sender", r"non[- ]?deliver(?:y|able)",
                           r"message (?:not|could not be) delivered", r"could not (?:send|deliver) (?:your )?message",
                           r"mail (?:system error|could not be delivered)", r"delayed mail",
                           r"delivery (?:notification|report).*(?:fail|delay)", r"warning: (?:could not send|message .* delayed)",
                           r"^rejected:", r"mail failure", r"permanent (?:delivery )?(?:error|failure)",
                           r"message delivery has failed", r"delivery problem", r"error sending message"),
        "delay": (r"(?:has|have) (?:not yet|still not) been delivered", r"(?:will|shall) (?:continue to )?(?:retry|try again|keep trying)",
                  r"still (?:being )?(?:retried|trying)", r"delivery (?:has been |is )?delayed", r"delay(?:ed)? (?:mail|delivery)",
                  r"this is a warning message only", r"you do not need to resend your message",
                  r"no action is required on your part", r"temporarily deferred"),
        "until": (r"until", r"till", r"back on", r"back in the office on", r"return(?:ing)? (?:to the office )?on", r"through", r"returning"),
    },
    "de": {
        "ooo_subject": (r"abwesenheits?(?:notiz|nachricht|meldung)", r"nicht im b[üu]ro", r"au[ßs]er haus", r"\burlaub\b", r"\babwesend\b"),
        "ooo_body": (r"ich bin (?:bis|vom|ab|derzeit|zurzeit|momentan|aktuell) .{0,60}(?:abwesend|nicht im b[üu]ro|im urlaub|au[ßs]er haus|nicht erreichbar)",
                     r"(?:bin|befinde mich) (?:derzeit |zurzeit )?(?:im urlaub|au[ßs]er haus|nicht im b[üu]ro)",
                     r"ab dem .{0,20} wieder (?:im b[üu]ro|erreichbar)"),
        "auto_subject": (r"automatische antwort", r"automatische eingangsbest[äa]tigung", r"eingangsbest[äa]tigung"),
        "auto_body": (r"(?:vielen )?dank f[üu]r ihre (?:e-?mail|nachricht|anfrage)[^.]{0,80}(?:erhalten|melden|bearbeiten)",
                      r"dies ist eine automatisch (?:generierte|erstellte) (?:e-?mail|nachricht|antwort)"),
        "challenge": (r"best[äa]tigen sie,? dass sie (?:ein mensch|kein (?:roboter|spammer))", r"(?:liste|whitelist) (?:der )?(?:zugelassenen|erlaubten) absender",
                      r"ihre nachricht wurde zur[üu]ckgehalten"),
        "bounce_subject": (r"unzustellbar", r"nicht zustellbar", r"unzustellbare nachricht"),
        "delay": (r"(?:konnte|wurde) (?:noch nicht|bisher nicht) zugestellt", r"weitere zustellversuche", r"zustellung (?:ist )?verz[öo]gert"),
        "until": (r"bis(?: zum| einschlie[ßs]lich)?", r"ab dem", r"wieder am", r"zur[üu]ck am"),
    },
    "fr": {
        "ooo_subject": (r"absen(?:ce|t|te) du bureau", r"\bcong[ée]s?\b", r"\babsence\b", r"hors du bureau"),
        "ooo_body": (r"je suis (?:actuellement )?(?:absente?|en (?:cong[ée]s?|vacances|d[ée]placement))", r"je serai absente?",
                     r"(?:de retour|je serai de retour) (?:le|au bureau)"),
        "auto_subject": (r"r[ée]ponse automatique", r"accus[ée] de r[ée]ception"),
        "auto_body": (r"ceci est (?:une r[ée]ponse|un message) automatique", r"nous avons (?:bien )?re[çc]u votre (?:message|e-?mail|demande)",
                      r"merci pour votre (?:message|e-?mail)[^.]{0,80}(?:re[çc]u|r[ée]pondr)"),
        "challenge": (r"(?:un clic pour|cliquez[^.]{0,40}pour) (?:d[ée]livrer|valider|confirmer)", r"en attente de (?:validation|v[ée]rification)",
                      r"liste (?:blanche|des exp[ée]diteurs autoris[ée]s)"),
        "bounce_subject": (r"non remis", r"notification d'[ée]tat de (?:la )?distribution", r"r[ée]ception impossible"),
        "delay": (r"n'a pas encore pu [êe]tre (?:remis|distribu[ée])", r"(?:nouvelle|nouvelles) tentatives?"),
        "until": (r"jusqu'au", r"jusqu'à", r"de retour le", r"à partir du", r"retour le"),
    },
    "es": {
        "ooo_subject": (r"fuera de (?:la )?oficina", r"\bausente\b", r"de vacaciones"),
        "ooo_body": (r"(?:estoy|estar[ée]) (?:fuera de la oficina|de vacaciones|ausente)", r"no (?:estar[ée]|estoy) en la oficina"),
        "auto_subject": (r"respuesta autom[áa]tica", r"acuse de recibo"),
        "auto_body": (r"(?:este es|[ée]sta es) (?:un mensaje|una respuesta) autom[áa]tic[oa]", r"hemos recibido su (?:mensaje|correo|solicitud)",
                      r"gracias por su (?:mensaje|correo)[^.]{0,80}(?:recibido|responder)"),
        "challenge": (r"verifi(?:que|car) que (?:usted )?es (?:una persona|humano)", r"lista (?:blanca|de remitentes (?:aprobados|permitidos))"),
        "bounce_subject": (r"no se puede entregar",),
        "delay": (r"(?:a[úu]n )?no (?:ha podido ser|se ha) entregad[oa]", r"seguir[áa] intentando"),
        "until": (r"hasta el", r"hasta", r"de vuelta el", r"regreso el", r"volver[ée] el"),
    },
    "pt": {
        "ooo_subject": (r"fora do escrit[óo]rio", r"aus[êe]ncia", r"de f[ée]rias"),
        "ooo_body": (r"(?:estou|estarei) (?:fora do escrit[óo]rio|de f[ée]rias|ausente)",),
        "auto_subject": (r"resposta autom[áa]tica",),
        "auto_body": (r"(?:esta [ée] uma|mensagem) (?:resposta|mensagem) autom[áa]tica", r"recebemos (?:a sua|sua) (?:mensagem|solicita[çc][ãa]o)"),
        "challenge": (r"lista (?:branca|de remetentes (?:aprovados|permitidos))",),
        "delay": (r"ainda n[ãa]o (?:foi|p[ôo]de ser) entregue", r"continuar[áa] tentando"),
        "until": (r"at[ée]", r"at[ée] o dia", r"regresso (?:a|em)", r"retorno (?:a|em)"),
    },
    "it": {
        "ooo_subject": (r"fuori (?:ufficio|sede)", r"\bassente\b", r"in ferie", r"\bferie\b"),
        "ooo_body": (r"sono (?:fuori (?:ufficio|sede)|in ferie|assente|in vacanza)", r"sar[òo] (?:assente|fuori (?:ufficio|sede)|in ferie)"),
        "auto_subject": (r"risposta automatica",),
        "auto_body": (r"questo [èe] un messaggio (?:generato )?automatic", r"abbiamo ricevuto (?:la sua|il suo) (?:messaggio|e-?mail|richiesta)"),
        "challenge": (r"lista (?:bianca|dei mittenti (?:autorizzati|approvati))",),
        "bounce_subject": (r"non recapitabile",),
        "delay": (r"non [èe] ancora stato consegnato", r"continuer[àa] a (?:tentare|provare)"),
        "until": (r"fino al", r"fino a", r"rientro (?:il|previsto)", r"di ritorno il"),
    },
    "nl": {
        "ooo_subject": (r"\bafwezig\b", r"niet aanwezig", r"buiten kantoor", r"met vakantie"),
        "ooo_body": (r"ik ben (?:momenteel |tot .{0,30})?(?:afwezig|met vakantie|niet aanwezig|niet op kantoor)",),
        "auto_subject": (r"automatisch antwoord",),
        "auto_body": (r"dit is een automatisch (?:gegenereerd )?(?:bericht|antwoord)", r"wij hebben uw (?:bericht|e-?mail|aanvraag) ontvangen"),
        "challenge": (r"lijst (?:met )?(?:goedgekeurde|toegestane) afzenders",),
        "bounce_subject": (r"onbestelbaar",),
        "delay": (r"(?:is )?nog niet (?:afgeleverd|bezorgd)",),
        "until": (r"tot en met", r"tot", r"terug op", r"vanaf"),
    },
    "pl": {
        "ooo_subject": (r"poza biurem", r"nieobecno[śs][ćc]", r"\burlop\b", r"odpowied[źz] automatyczna"),
        "ooo_body": (r"(?:jestem|b[ęe]d[ęe]) (?:obecnie |aktualnie )?(?:poza biurem|nieobecn[ya]|na urlopie|niedost[ęe]pn[ya])",
                     r"przebywam na urlopie", r"nie (?:ma mnie|b[ęe]dzie mnie) w biurze"),
        "auto_subject": (r"automatyczna odpowied[źz]",),
        "auto_body": (r"(?:jest to|to jest) (?:wiadomo[śs][ćc]|odpowied[źz]) (?:wygenerowana )?automatyczn", r"otrzymali[śs]my (?:pa[ńn]stwa|twoj[ąa]) wiadomo[śs][ćc]"),
        "challenge": (r"lista (?:zaufanych|dozwolonych) nadawc[óo]w",),
        "delay": (r"(?:nie zosta[łl]a|jeszcze nie) dostarczon",),
        "until": (r"do dnia", r"do", r"wracam", r"powr[óo]t"),
    },
    "sv": {
        "ooo_subject": (r"autosvar", r"fr[åa]nvarande", r"\bsemester\b"),
        "ooo_body": (r"jag [äa]r (?:p[åa] semester|ledig|borta|inte p[åa] kontoret|fr[åa]nvarande)",),
        "auto_subject": (r"automatiskt svar",),
        "auto_body": (r"detta [äa]r ett automatiskt (?:svar|meddelande)",),
        "challenge": (),
        "bounce_subject": (r"kan inte levereras",),
        "delay": (r"har (?:[äa]nnu )?inte levererats",),
        "until": (r"till och med", r"till", r"tillbaka den"),
    },
    "da": {
        "ooo_subject": (r"frav[æa]rende", r"ikke til stede", r"\bferie\b"),
        "ooo_body": (r"jeg er (?:p[åa] ferie|frav[æa]rende|ikke p[åa] kontoret)",),
        "auto_subject": (r"automatisk svar",),
        "auto_body": (r"dette er et automatisk (?:svar|genereret)",),
        "challenge": (),
        "delay": (),
        "until": (r"til og med", r"indtil", r"tilbage den"),
    },
    "no": {
        "ooo_subject": (r"frav[æa]rende", r"ikke til stede"),
        "ooo_body": (r"jeg er (?:p[åa] ferie|bortreist|frav[æa]rende|ikke p[åa] kontoret)",),
        "auto_subject": (r"automatisk svar",),
        "auto_body": (r"dette er et automatisk (?:svar|generert)",),
        "challenge": (),
        "delay": (),
        "until": (r"til og med", r"frem til", r"tilbake den"),
    },
    "fi": {
        "ooo_subject": (r"poissa toimistolta", r"\blomalla\b", r"\bpoissa\b"),
        "ooo_body": (r"olen (?:lomalla|poissa(?: toimistolta)?)",),
        "auto_subject": (r"automaattinen vastaus",),
        "auto_body": (r"t[äa]m[äa] on automaattinen (?:vastaus|viesti)",),
        "challenge": (),
        "delay": (),
        "until": (r"asti", r"saakka", r"palaan"),
    },
    "cs": {
        "ooo_subject": (r"mimo kancel[áa][řr]", r"nep[řr][íi]tomnost", r"automatick[áa] odpov[ěe][ďd]"),
        "ooo_body": (r"jsem (?:mimo kancel[áa][řr]|na dovolen[ée]|nep[řr][íi]tomn[ýá])",),
        "auto_subject": (r"automatick[áa] odpov[ěe][ďd]",),
        "auto_body": (r"toto je automatick[áa] (?:odpov[ěe][ďd]|zpr[áa]va)",),
        "challenge": (),
        "delay": (),
        "until": (r"do",),
    },
    "hu": {
        "ooo_subject": (r"h[áa]zon k[íi]v[üu]l", r"irod[áa]n k[íi]v[üu]l", r"automatikus v[áa]lasz", r"szabads[áa]gon"),
        "ooo_body": (r"(?:szabads[áa]gon|irod[áa]n k[íi]v[üu]l) vagyok",),
        "auto_subject": (r"automatikus v[áa]lasz",),
        "auto_body": (r"ez egy automatikus (?:v[áa]lasz|[üu]zenet)",),
        "challenge": (),
        "delay": (),
        "until": (r"-ig",),
    },
    "tr": {
        "ooo_subject": (r"ofis d[ıi][şs][ıi]nda", r"izindeyim", r"otomatik (?:yan[ıi]t|cevap)"),
        "ooo_body": (r"(?:ofis d[ıi][şs][ıi]nday[ıi]m|izindeyim|tatildeyim)",),
        "auto_subject": (r"otomatik (?:yan[ıi]t|cevap)",),
        "auto_body": (r"bu (?:bir )?otomatik (?:yan[ıi]t|cevap|mesaj)",),
        "challenge": (),
        "delay": (r"hen[üu]z teslim edilemedi",),
        "until": (r"tarihine kadar", r"kadar"),
    },
    "ru": {
        "ooo_subject": (r"вне офиса", r"в отпуске", r"автоответ", r"автоматический ответ", r"отсутству"),
        "ooo_body": (r"я (?:нахожусь |буду )?(?:в отпуске|вне офиса|в командировке|отсутствую)", r"меня не будет в офисе"),
        "auto_subject": (r"автоматический ответ", r"автоответ"),
        "auto_body": (r"это (?:автоматическое (?:сообщение|письмо)|автоответ)", r"ваше (?:письмо|сообщение) получено"),
        "challenge": (r"белый список",),
        "delay": (r"(?:ещё|еще) не (?:было )?доставлено", r"попытки доставки (?:будут )?продолж"),
        "until": (r"до",),
    },
    "el": {
        "ooo_subject": (r"εκτός γραφείου", r"αυτόματη απάντηση"),
        "ooo_body": (r"(?:είμαι|θα είμαι) εκτός γραφείου", r"βρίσκομαι σε άδεια"),
        "auto_subject": (r"αυτόματη απάντηση",),
        "auto_body": (r"αυτό είναι ένα αυτόματο μήνυμα",),
        "challenge": (),
        "delay": (),
        "until": (r"έως", r"μέχρι"),
    },
    "ro": {
        "ooo_subject": (r"[îi]n afara biroului", r"r[ăa]spuns automat", r"[îi]n concediu"),
        "ooo_body": (r"sunt (?:[îi]n concediu|plecat[ăa]?|[îi]n afara biroului)",),
        "auto_subject": (r"r[ăa]spuns automat",),
        "auto_body": (r"acesta este un (?:mesaj|r[ăa]spuns) automat",),
        "challenge": (),
        "delay": (),
        "until": (r"p[âa]n[ăa] (?:la|pe)",),
    },
    "ar": {
        "ooo_subject": (r"خارج المكتب", r"رد تلقائي", r"في إجازة"),
        "ooo_body": (r"(?:أنا|انا) (?:خارج المكتب|في إجازة)", r"سأكون خارج المكتب"),
        "auto_subject": (r"رد تلقائي",),
        "auto_body": (r"هذا رد تلقائي", r"هذه رسالة تلقائية"),
        "challenge": (),
        "delay": (),
        "until": (r"حتى",),
    },
    "hi": {
        "ooo_subject": (r"कार्यालय से बाहर", r"स्वचालित उत्तर", r"छुट्टी पर"),
        "ooo_body": (r"मैं (?:कार्यालय से बाहर|छुट्टी पर) (?:हूँ|हूं)",),
        "auto_subject": (r"स्वचालित उत्तर",),
        "auto_body": (r"यह एक स्वचालित (?:उत्तर|संदेश) है",),
        "challenge": (),
        "delay": (),
        "until": (r"तक",),
    },
    "ja": {
        "ooo_subject": (r"不在", r"休暇", r"自動応答", r"自動返信", r"外出"),
        "ooo_body": (r"不在にしております", r"休暇を(?:いただいて|取って)おります", r"(?:出張|休暇)中", r"不在です"),
        "auto_subject": (r"自動応答", r"自動返信", r"受付完了", r"お問い合わせありがとうございます"),
        "auto_body": (r"(?:本|この)メールは(?:送信専用|自動(?:送信|返信|配信))", r"自動(?:送信|返信)されて"),
        "challenge": (),
        "bounce_subject": (r"配信エラー", r"不達", r"未送達"),
        "delay": (r"まだ配信されていません", r"再送を(?:試み|続け)"),
        "until": (r"まで",),
    },
    "zh": {
        "ooo_subject": (r"不在办公室", r"休假", r"自动回复", r"自動回覆", r"外出"),
        "ooo_body": (r"我(?:目前|现在|正在)?(?:不在办公室|休假|出差)", r"我(?:目前|現在)?(?:不在辦公室|休假中)"),
        "auto_subject": (r"自动回复", r"自動回覆", r"自动答复"),
        "auto_body": (r"(?:这是|此为|這是)(?:一封)?自动(?:回复|邮件)", r"已收到(?:您|你)的(?:邮件|来信)"),
        "challenge": (),
        "bounce_subject": (r"消息投递失败", r"退信"),
        "delay": (r"(?:尚未|还未)(?:投递|送达)",),
        "until": (r"至", r"到"),
    },
    "ko": {
        "ooo_subject": (r"부재중", r"자동 ?응답", r"휴가"),
        "ooo_body": (r"부재중입니다", r"휴가 중입니다", r"사무실에 없습니다"),
        "auto_subject": (r"자동 ?응답", r"자동 ?회신"),
        "auto_body": (r"자동으로 (?:발송|생성)된 (?:메일|메시지)",),
        "challenge": (),
        "delay": (),
        "until": (r"까지",),
    },
}

CATEGORIES = ("ooo_subject", "ooo_body", "auto_subject", "auto_body", "challenge", "delay", "bounce_subject", "until")


@cache
def pattern(category: str) -> re.Pattern:
    """One alternation over every language's fragments of `category`, each in a named group per language."""
    groups = []
    for lang, table in PHRASES.items():
        fragments = table.get(category, ())
        if fragments:
            groups.append(f"(?P<{lang}>{'|'.join(f'(?:{f})' for f in fragments)})")
    return re.compile("|".join(groups), re.I | re.M)


def find(category: str, text: str) -> str | None:
    """The language whose `category` phrase occurs in `text` (None if none)."""
    if not text:
        return None
    found = pattern(category).search(text)
    return found.lastgroup if found else None
