"""Word lists and small heuristics the facts writer reads facts with (English and Spanish).

No tagger is installed, so nouns are found by position: a content word after an article,
determiner, number, preposition or a "have/is" verb, the first word of a sentence, or a
capitalised word inside one ("the Eiffel Tower", "los pulpos", "three hearts"). Known verbs,
adverbs (-ly, -mente) and past forms (-ed) are never nouns, and a word right after a
known verb is one unless it is a gerund ("uses copper"). Other languages are read with the
English rules for numbers and keep only what is obvious (digits, capitalised words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_](?:[\w'\u2019-]*[^\W_])?")


def words_of(text: str) -> list[str]:
    """The words of ``text`` as written (letters, inner apostrophes and hyphens)."""
    return _WORD.findall(text)


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class LanguageWords:
    """What the facts writer knows about one language's words."""

    code: str
    stop: frozenset[str]
    before_noun: frozenset[str]
    verbs: frozenset[str]
    number_words: frozenset[str]
    superlatives: frozenset[str]
    contrast: frozenset[str]
    quantities: frozenset[str]
    lowercase_starts: frozenset[str]
    adverb_ending: str

    def is_superlative(self, word: str) -> bool:
        return word in self.superlatives or (
            self.code == "es" and re.search(r"[ií]sim[oa]s?$", word) is not None
        )

    def _may_be_noun(self, word: str) -> bool:
        low = word.lower()
        return (
            len(low) >= 3
            and low not in self.stop | self.verbs | self.number_words | self.before_noun
            and low not in self.contrast
            and not self.is_superlative(low)
            and not low.endswith(self.adverb_ending)
            and not (self.code == "en" and low.endswith("ed"))
        )

    def content(self, text: str) -> list[str]:
        """The words of ``text`` that are not stop-words or numbers (lower case, in order)."""
        found = [w.lower() for w in words_of(text) if self._may_be_noun(w)]
        return list(dict.fromkeys(found))

    def nouns(self, text: str) -> list[str]:
        """The likely nouns of ``text`` (lower case, in order, no duplicates)."""
        tokens = re.findall(r"\d+(?:[.,]\d+)*|" + _WORD.pattern, text)
        found: list[str] = []
        for i, token in enumerate(tokens):
            if not self._may_be_noun(token):
                continue
            previous = tokens[i - 1] if i else ""
            capital = bool(i) and token[:1].isupper() and not token.isupper()
            after_marker = previous.lower() in self.before_noun | self.number_words
            after_marker |= previous.lower() in self.verbs and not self._is_gerund(token)
            chained = bool(found) and previous.lower() == found[-1] and self._chains(token)
            if not i or capital or after_marker or previous[:1].isdigit() or chained:
                found.append(token.lower())
        return list(dict.fromkeys(found))

    def _is_gerund(self, token: str) -> bool:
        endings = ("ing",) if self.code == "en" else ("ando", "iendo")
        return token.lower().endswith(endings)

    def _chains(self, token: str) -> bool:
        """Whether a word right after a noun is part of it ("Eiffel Tower", "blue whale")."""
        if self.code == "en":
            return token.lower() not in self.verbs and not token.lower().endswith("s")
        return token[:1].isupper()

    def lowered_start(self, fact: str) -> str:
        """``fact`` with its first letter in lower case when its first word is an ordinary
        word ("The", "Los"), so it can follow "Also, "; "" when it is a name or a question."""
        first = fact.split(" ", 1)[0]
        if first.lower() in self.lowercase_starts and first[:1].isupper() and not first.isupper():
            return fact[:1].lower() + fact[1:]
        return ""


ENGLISH = LanguageWords(
    code="en",
    stop=_set(
        """a about above after again against all almost also am an and any are as at be because
        been before being below between both but by can could did do does doing done down during
        each even ever every few for from further had has have having he her here hers him his
        how i if in into is it its itself just least less let like made make makes many may me
        might more most much must my never no nor not now of off on once one only or other our
        out over own same say says see she should so some still such than that the their them
        then there these they this those though through to too under until up us very was way we
        well were what when where which while who whom whose why will with within without would
        yet you your yours also really actually about around per almost nearly usually often
        sometimes always"""
    ),
    before_noun=_set(
        """a an the this that these those its their his her our your my every each some many
        few several no of in on at by for from with without into onto about than like under
        over between among through during before after behind near inside outside has have had
        is are was were become becomes became called named"""
    ),
    verbs=_set(
        """can could will would may might must shall should do does did is are was were be been
        being has have had get gets got make makes made take takes took grow grows grew live
        lives lived eat eats ate sleep sleeps slept weigh weighs contain contains produce
        produces spend spends stop stops start starts keep keeps use uses need needs help helps
        travel travels move moves run runs swim swims fly flies beat beats pump pumps spoil
        spoils last lasts reach reaches hold holds become becomes turn turns see sees hear hears
        smell smells taste tastes feel feels know knows think thinks say says tell tells give
        gives find finds show shows mean means seem seems look looks sound sounds lose loses
        survive survives exist exists remain remains"""
    ),
    number_words=_set(
        """one two three four five six seven eight nine ten eleven twelve twenty thirty forty
        fifty hundred hundreds thousand thousands million millions billion billions trillion
        half dozen once twice"""
    ),
    superlatives=_set(
        """most least only never first ever biggest largest smallest fastest slowest oldest
        youngest longest shortest tallest highest lowest deepest heaviest lightest hottest
        coldest strongest loudest rarest best worst"""
    ),
    contrast=_set("but yet although though despite instead actually unlike whereas however"),
    quantities=_set("million millions billion billions thousand thousands percent times trillion"),
    lowercase_starts=_set(
        """the a an this that these those some many most every each all no one two three four
        five six seven eight nine ten its their his her our your my it they we you there
        about almost nearly only even just"""
    ),
    adverb_ending="ly",
)

SPANISH = LanguageWords(
    code="es",
    stop=_set(
        """a al algo algunas algunos ante antes así aun aún cada casi como con contra cual cuál
        cuando cuándo de del desde donde dónde durante e el él ella ellas ellos en entre era eran
        es esa esas ese eso esos esta está están estas este esto estos fue fueron ha han hasta
        hay la las le les lo los más me menos mi mis mucho muchos muy nada ni no nos nosotros o
        otra otras otro otros para pero poco por porque qué que quien quién se sea ser si sí sin
        sino sobre son su sus también tan tanto te tiene tienen todo todos tu tus un una uno
        unos unas usted ya y"""
    ),
    before_noun=_set(
        """el la los las un una unos unas del al este esta estos estas ese esa esos esas aquel
        aquella su sus mi mis tu tus nuestro nuestra nuestros nuestras cada varios varias
        muchos muchas pocos pocas algunos algunas de en con por para sin sobre entre hasta desde
        hacia tiene tienen tenía tenían es son era eran hay llamado llamada"""
    ),
    verbs=_set(
        """puede pueden podía vive viven vivía come comen duerme duermen pesa pesan crece
        crecen contiene contienen produce producen usa usan necesita necesitan viaja viajan
        nada nadan vuela vuelan late laten bombea bombean dura duran llega llegan mide miden
        tarda tardan sobrevive sobreviven existe existen parece parecen hace hacen dan da"""
    ),
    number_words=_set(
        """uno una dos tres cuatro cinco seis siete ocho nueve diez once doce veinte treinta
        cuarenta cincuenta cien ciento cientos mil miles millón millones billón medio media
        docena"""
    ),
    superlatives=_set(
        """más menos único única únicos únicas nunca jamás primer primero primera mayor menor
        mejor peor"""
    ),
    contrast=_set("pero aunque embargo cambio realidad incluso pesar sino"),
    quantities=_set("millón millones miles mil cientos veces ciento"),
    lowercase_starts=_set(
        """el la los las un una unos unas este esta estos estas cada casi muchos muchas
        algunos algunas todos todas solo sólo hay se en con más su sus dos tres cuatro cinco"""
    ),
    adverb_ending="mente",
)

LANGUAGE_WORDS: dict[str, LanguageWords] = {"en": ENGLISH, "es": SPANISH}
_SPANISH_LETTERS = re.compile(r"[ñ¿¡áéíóú]", re.IGNORECASE)


def detect_language(facts: Iterable[str]) -> str | None:
    """``"en"`` or ``"es"`` when the facts' function words clearly say so, else None."""
    text = " ".join(facts)
    tokens = [w.lower() for w in words_of(text)]
    english = sum(t in ENGLISH.stop for t in tokens)
    spanish = sum(t in SPANISH.stop for t in tokens) + len(_SPANISH_LETTERS.findall(text))
    if max(english, spanish) < 2:
        return None
    if english >= 2 * spanish:
        return "en"
    return "es" if spanish >= 2 * english else None


def _english_singular(low: str) -> str:
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if re.search(r"(ses|xes|ches|shes)$", low):
        return low[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3:
        return low[:-1]
    return low


def _spanish_singular(low: str) -> str:
    if re.search(r"[^aeiou]es$", low) and len(low) > 4:
        low = low[:-2]
    elif low.endswith("s") and len(low) > 3:
        low = low[:-1]
    return low.replace("ón", "on")


def lemma(word: str, language: str) -> str:
    """A rough singular, to count "octopus" and "octopuses" (or "corazón/corazones") as one."""
    low = word.lower()
    if language == "en":
        return _english_singular(low)
    return _spanish_singular(low) if language == "es" else low
