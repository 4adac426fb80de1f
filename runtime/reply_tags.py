"""Tagging a reply by rules when it is recorded: its outcome and its language.

The outcome comes from the reply's own words (never the quoted original:
sequences/mail_text.py): an unsubscribe request by the classifier's own test,
an absence notice by the classifier's phrase table (23 languages), then the
phrases below, most specific first (a booked meeting before interest, "not
interested" before "interested"). The language is the one whose common words
the text uses most. Tags are from sequences/conversation_tags.py; a person
can change them afterwards.
"""

from __future__ import annotations

import re

from runtime.channels.email.inbound import phrases
from runtime.channels.email.inbound.classify import is_unsubscribe
from sequences import conversation_tags as T
from sequences.mail_text import fold

_RULES: tuple[tuple[str, re.Pattern], ...] = tuple((tag, re.compile("|".join(words), re.I)) for tag, words in (
    (T.WRONG_PERSON, (r"wrong person", r"not the right (?:person|contact)", r"no longer (?:work|with)",
                      r"(?:left|leave) the company", r"not (?:responsible|in charge) for", r"(?:you should|better to) (?:contact|reach out to|talk to)",
                      r"nicht (?:zuständig|mehr bei)", r"pas la bonne personne", r"no soy la persona")),
    (T.NOT_INTERESTED, (r"not interested", r"no interest", r"no,? thanks?\b", r"not (?:a )?(?:fit|priority|relevant)",
                        r"(?:we are|we're|i am|i'm) (?:all )?(?:set|good)\b", r"already (?:have|use|work with)",
                        r"kein interesse", r"pas intéressé", r"no (?:me |nos )?interesa", r"non (?:sono |siamo )?interessat",
                        r"geen interesse")),
    (T.MEETING_BOOKED, (r"(?:i|i've|i have|we|we've|we have) (?:just )?(?:booked|scheduled|accepted the invite)",
                        r"see you (?:on|at|then|next)", r"(?:meeting|call|invite) (?:is )?(?:confirmed|booked|scheduled)",
                        r"termin (?:ist )?(?:gebucht|bestätigt)", r"rendez-vous (?:est )?confirmé", r"reunión (?:está )?confirmada")),
    (T.BAD_TIMING, (r"not (?:right )?now", r"bad timing", r"(?:reach|check|circle|get) back (?:to me |in touch )?(?:in|next|after)",
                    r"next (?:quarter|year|month)", r"later this year", r"no budget", r"(?:maybe|perhaps) later",
                    r"nicht (?:der richtige )?zeitpunkt", r"plus tard", r"más adelante")),
    (T.INTERESTED, (r"interested", r"sounds (?:good|great|interesting)", r"let'?s (?:talk|chat|meet|schedule|set up)",
                    r"(?:happy|glad|keen) to (?:chat|talk|meet|learn)", r"tell me more", r"send (?:me )?(?:more )?(?:info|details)",
                    r"how (?:does it|much)", r"(?:book|schedule) a (?:call|meeting|demo)", r"when are you (?:free|available)",
                    r"interessiert", r"intéress", r"me interesa", r"interessa")),
))

_WORDS: dict[str, tuple[str, frozenset[str]]] = {
    "en": ("English", frozenset("the and you to is are for we i it this that with not be have thanks please".split())),
    "es": ("Spanish", frozenset("el la que de y los las por para gracias es no una con estoy".split())),
    "de": ("German", frozenset("der die das und ich nicht sie wir ist mit für danke bitte ein eine".split())),
    "fr": ("French", frozenset("le la les et je vous nous est pas pour merci avec une des".split())),
    "it": ("Italian", frozenset("il che di non per sono grazie una della siamo mi ci".split())),
    "pt": ("Portuguese", frozenset("não que de para obrigado obrigada uma com está os as você".split())),
    "nl": ("Dutch", frozenset("de het een en ik niet wij zijn voor met bedankt graag".split())),
}
_WORD = re.compile(r"[^\W\d_]+", re.U)


def language(text: str) -> str | None:
    """The language name whose common words the text uses most (None when too short to tell)."""
    words = [w.lower() for w in _WORD.findall(text)[:400]]
    if len(words) < 3:
        return None
    scores = {code: sum(w in common for w in words) for code, (_, common) in _WORDS.items()}
    best = max(scores, key=scores.get)
    return _WORDS[best][0] if scores[best] >= 2 else None


def rule_tags(text: str, subject: str = "") -> list[str]:
    """The tags the rules give a reply: at most one outcome, and its language when it can be told."""
    own = fold(text).text
    outcome = None
    if is_unsubscribe(subject, text):
        outcome = T.UNSUBSCRIBE
    elif phrases.find("ooo_body", own) or phrases.find("ooo_subject", subject):
        outcome = T.OUT_OF_OFFICE
    else:
        outcome = next((tag for tag, rule in _RULES if rule.search(own)), None)
    lang = language(own)
    return [t for t in (outcome, lang) if t]
