"""The return date an out-of-office notice gives ("back on 18 March", "bis 03.04.", "do 5 maja").

Kept with the lead (spec: Finished / Out of office) so the user knows when to
write again. Only a date right after a language's "until" word counts (see
phrases.PHRASES[...]["until"]), so a date elsewhere in the text (a quoted
original, a signature) is not taken for it. A date without a year is the next
such day on or after the notice's own Date; numeric dates are read day first
(as most of the world writes them) unless the second number cannot be a
month — `09/18/2014` is 18 September.
"""

from __future__ import annotations

import re
from datetime import date

from runtime.channels.email.inbound import phrases

MONTHS: dict[str, int] = {}
for _number, _names in enumerate([
    "january jan januar janvier enero gennaio janeiro januari stycznia styczeń styczen ocak январь января tammikuu leden január ianuarie",
    "february feb februar février fevrier febrero febbraio fevereiro februari lutego luty şubat subat февраль февраля helmikuu únor unor február februarie",
    "march mar märz maerz mars marzo março marco maart marca marzec mart март марта maaliskuu březen brezen március martie",
    "april apr avril abril aprile kwietnia kwiecień kwiecien nisan апрель апреля huhtikuu duben április aprilie",
    "may mai mayo maggio maio mei maja maj mayıs mayis май мая toukokuu květen kveten május",
    "june jun juni juin junio giugno junho czerwca czerwiec haziran июнь июня kesäkuu červen cerven június iunie",
    "july jul juli juillet julio luglio julho lipca lipiec temmuz июль июля heinäkuu červenec cervenec július iulie",
    "august aug août aout agosto augustus sierpnia sierpień sierpien ağustos agustos август августа elokuu srpen augusztus",
    "september sep sept septembre septiembre settembre setembro września wrzesnia wrzesień eylül eylul сентябрь сентября syyskuu září zari szeptember septembrie",
    "october oct oktober octobre octubre ottobre outubro października pazdziernika październik ekim октябрь октября lokakuu říjen rijen október octombrie",
    "november nov novembre noviembre novembro listopada listopad kasım kasim ноябрь ноября marraskuu listopad",
    "december dec dezember décembre decembre diciembre dicembre dezembro grudnia grudzień grudzien aralık aralik декабрь декабря joulukuu prosinec december decembrie",
], start=1):
    for _name in _names.split():
        MONTHS.setdefault(_name, _number)

_MONTH = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_NUMERIC = r"(?P<a>\d{1,4})[./-](?P<b>\d{1,2})(?:[./-](?P<c>\d{2,4}))?\.?"
_DAY_MONTH = rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?(?:\s+(?:of|de|di))?\s+(?P<m1>{_MONTH})\b\.?(?:,?\s+(?P<y1>\d{{4}}))?"
_MONTH_DAY = rf"(?P<m2>{_MONTH})\b\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag|freitag|lundi|mardi|mercredi|jeudi|vendredi|lunes|martes|mi[ée]rcoles|jueves|viernes|luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|maandag|dinsdag|woensdag|donderdag|vrijdag|poniedzia[łl]ek|wtorek|[śs]roda|czwartek|pi[ąa]tek)"


def _until_regex() -> re.Pattern:
    words = "|".join(f"(?:{w})" for table in phrases.PHRASES.values() for w in table.get("until", ()))
    return re.compile(
        rf"(?:{words})\s*[:,]?\s*(?:(?:the|le|el|il|den|dem|der|dnia)\s+)?(?:{_WEEKDAY},?\s+)?(?:{_DAY_MONTH}|{_MONTH_DAY}|{_NUMERIC})",
        re.I,
    )


_UNTIL = _until_regex()
# Languages that put the word after the date: "24.08.2026 tarihine kadar", "május 5-ig".
_AFTER = re.compile(r"(?P<a>\d{1,2})[./](?P<b>\d{1,2})[./](?P<c>\d{2,4})\s*(?:tarihine kadar|tarihinde|kadar|-ig|まで|까지)", re.I)
_ISO_IN_CJK = re.compile(r"(?P<y>\d{4})[年/-](?P<m>\d{1,2})[月/-](?P<d>\d{1,2})日?\s*(?:まで|까지|至|到)")


def _year(y: str | None, month: int, day: int, sent: date | None) -> int | None:
    if y:
        year = int(y)
        return year + 2000 if year < 100 else year
    if sent is None:
        return None
    year = sent.year
    try:
        if date(year, month, day) < sent:
            year += 1
    except ValueError:
        return None
    return year


def _make(year: int | None, month: int, day: int) -> str | None:
    if year is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def return_date(text: str, sent: date | None) -> str | None:
    """The ISO date the sender says they are back (None when none is given)."""
    text = text[:4000]
    cjk = _ISO_IN_CJK.search(text)
    if cjk:
        return _make(int(cjk["y"]), int(cjk["m"]), int(cjk["d"]))
    after = _AFTER.search(text)
    if after:
        return _make(_year(after["c"], int(after["b"]), int(after["a"]), sent), int(after["b"]), int(after["a"]))
    for found in _UNTIL.finditer(text):
        if found["m1"]:
            month, day = MONTHS[found["m1"].lower()], int(found["d1"])
            return _make(_year(found["y1"], month, day, sent), month, day)
        if found["m2"]:
            month, day = MONTHS[found["m2"].lower()], int(found["d2"])
            return _make(_year(found["y2"], month, day, sent), month, day)
        a, b, c = found["a"], found["b"], found["c"]
        if len(a) == 4:  # 2026-03-18
            if c is None:
                continue
            return _make(int(a), int(b), int(c))
        first, second = int(a), int(b)
        day, month = (second, first) if second > 12 and first <= 12 else (first, second)
        if not 1 <= month <= 12:
            continue
        return _make(_year(c, month, day, sent), month, day)
    return None
