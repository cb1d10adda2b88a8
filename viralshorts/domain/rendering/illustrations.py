"""Offline illustrations: the OpenMoji library, its keyword index, and a pick per script line.

The library is installed by `./dev setup` from the npm registry into `.tools/node_modules/`
(`openmoji` for the pictures and their English annotations, `emojilib` for more English
keywords, `cldr-annotations-modern` for Spanish names and keywords) and its colour SVGs are
rasterised once to 618x618 PNG under `data/illustrations/`.

Use:
    index = load_index()                       # built once, then read from its on-disk cache
    picks = choose_illustrations(script.lines, index)   # one IllustrationPick per line
    description += attribution_for(picks)      # "" when no pick needs a credit

A pick with `path` set shows that PNG (transparent background); a pick with `path=None` is a
typographic card showing `card_text` (the line's key number or word). Matching never picks at
random: below `MIN_SCORE` the line gets a card.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from viralshorts.errors import ConfigurationError
from viralshorts.integrations.ports import ScriptLine
from viralshorts.settings import PROJECT_ROOT

LIBRARY_DIR = PROJECT_ROOT / ".tools" / "node_modules"
CACHE_DIR = PROJECT_ROOT / "data" / "illustrations"
WORDS_FILE = PROJECT_ROOT / "viralshorts" / "resources" / "illustrations" / "words.json"
RASTER_PX = 618
INDEX_FORMAT = 3
OPENMOJI_ATTRIBUTION = (
    "Illustrations: OpenMoji, the open-source emoji and icon project (openmoji.org), "
    "licence CC BY-SA 4.0"
)

KEYWORD_WEIGHT = 3.0  # a line's own visual keywords count three times a word of its text
KEYWORD_DECAY = 0.75  # writers list the main subject first: each later keyword counts less
FACE_PRIOR = 0.85  # reaction faces illustrate a mood, rarely the thing a line is about
PHRASE_BONUS = 1.5  # "black hole" as a whole outranks "black" and "hole" apart
SYNONYM_WEIGHT = 0.8
VARIANT_WEIGHT = 0.9  # "hearts" meets "heart": a little less than the very word
MIN_SCORE = 1.2
CANDIDATES_PER_LINE = 8
# How much each source of words says about a picture (its name says the most).
NAME, CLDR_TAGS, OPENMOJI_TAGS, EMOJILIB, SPANISH_NAME, SPANISH_TAGS = 1.0, 0.7, 0.6, 0.5, 1.0, 0.7
# Left out: skin-tone copies, bare components, brand logos, interface glyphs, keycaps.
SKIPPED_GROUPS = {"component"}
SKIPPED_SUBGROUPS = {"brand", "ui-element", "keycap", "symbol-other", "interaction"}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_NUMBER = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)*)(\s*%|\s+(?:per\s?cent|por\s+ciento)\b)?"
    r"(\s+(?:thousand|million|billion|trillion|mil|millones|billones)\b)?",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "hundred": "100", "dos": "2",
    "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7", "ocho": "8",
    "nueve": "9", "diez": "10", "cien": "100",
}  # fmt: skip


@dataclass(frozen=True)
class IllustrationPick:
    """What one script line shows: a library picture (`path`) or a card (`card_text`)."""

    path: Path | None
    name: str
    card_text: str
    score: float
    attribution: str


@dataclass(frozen=True)
class IllustrationIndex:
    """Library pictures with weighted postings: word variant (or phrase) -> (entry, weight)."""

    names: tuple[str, ...]
    paths: tuple[Path, ...]
    priors: tuple[float, ...]
    spanish_names: tuple[str, ...]
    words: dict[str, list[list]]  # [[entry, weight], ...] as read from the cache, not copied
    phrases: dict[str, list[list]]
    attribution: str = OPENMOJI_ATTRIBUTION


@dataclass(frozen=True)
class _WordTables:
    stop_words: frozenset[str]
    keep_final_s: frozenset[str]
    irregular: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]


# ---- words ---------------------------------------------------------------------------------


@cache
def _tables() -> _WordTables:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    return _WordTables(
        stop_words=frozenset(_fold(w) for w in data["stop_words"]),
        keep_final_s=frozenset(data["keep_final_s"]),
        irregular={_fold(k): _fold(v) for k, v in data["irregular_forms"].items()},
        synonyms={_fold(k): tuple(_fold(t) for t in v) for k, v in data["synonyms"].items()},
    )


def _fold(text: str) -> str:
    """Lower case without accents, so "Volcán" and "volcan" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def _words(text: str) -> list[str]:
    return [re.sub(r"'s$", "", w) for w in _WORD.findall(_fold(text))]


def _variants(word: str) -> dict[str, float]:
    """The word and its likely base forms (plural, -ing, -ed), each with how much it counts."""
    tables = _tables()
    if " " in word:  # a phrase: its last word may be plural ("credit cards")
        head, last = word.rsplit(" ", 1)
        return {f"{head} {form}": weight for form, weight in _variants(last).items()}
    forms = {word: 1.0}
    if word in tables.irregular:
        forms[tables.irregular[word]] = VARIANT_WEIGHT
    if word in tables.keep_final_s or len(word) <= 3:
        return forms
    stems = []
    if word.endswith("ies"):
        stems.append(word[:-3] + "y")
    if word.endswith("es"):
        stems.append(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stems.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            stems += [stem, stem + "e"] + ([stem[:-1]] if stem[-1] == stem[-2] else [])
    for stem in stems:
        forms.setdefault(stem, VARIANT_WEIGHT)
    return forms


def _is_filler(word: str) -> bool:
    stop = _tables().stop_words
    return len(word) < 2 or word in stop or (word.endswith("s") and word[:-1] in stop)


def _content_words(text: str) -> list[str]:
    return [w for w in _words(text) if not _is_filler(w)]


# ---- building the index --------------------------------------------------------------------


def load_index(library_dir: Path = LIBRARY_DIR, cache_dir: Path = CACHE_DIR) -> IllustrationIndex:
    """The index of the installed library, from its on-disk cache (built on first use).

    Raises:
        ConfigurationError: the library is not installed (run `./dev setup`).
    """
    manifest = library_dir / "openmoji" / "package.json"
    if not manifest.is_file():
        raise ConfigurationError(
            f"The illustration library is not installed ({manifest} is missing); run ./dev setup"
        )
    cache_file = cache_dir / f"index-{_fingerprint(library_dir)}.json"
    if not cache_file.is_file():
        _write_atomically(cache_file, json.dumps(_build_postings(library_dir)))
        for stale in cache_dir.glob("index-*.json"):
            if stale != cache_file:
                stale.unlink(missing_ok=True)
    return _index_from_json(json.loads(cache_file.read_text(encoding="utf-8")), cache_dir)


def raster_dir(cache_dir: Path = CACHE_DIR) -> Path:
    """Where the PNG of each picture lives (`<hexcode>.png`)."""
    return cache_dir / f"png-{RASTER_PX}"


def missing_rasters(index: IllustrationIndex) -> list[str]:
    """Hexcodes of indexed pictures whose PNG has not been made yet (for `./dev setup`)."""
    return [path.stem for path in index.paths if not path.is_file()]


def _fingerprint(library_dir: Path) -> str:
    import hashlib

    parts = [str(INDEX_FORMAT), WORDS_FILE.read_text(encoding="utf-8")]
    for package in ("openmoji", "emojilib", "cldr-annotations-modern"):
        manifest = library_dir / package / "package.json"
        parts.append(manifest.read_text(encoding="utf-8") if manifest.is_file() else package)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _index_from_json(data: dict, cache_dir: Path) -> IllustrationIndex:
    pngs = raster_dir(cache_dir)
    return IllustrationIndex(
        names=tuple(entry[1] for entry in data["entries"]),
        paths=tuple(pngs / f"{entry[0]}.png" for entry in data["entries"]),
        priors=tuple(entry[2] for entry in data["entries"]),
        spanish_names=tuple(entry[3] for entry in data["entries"]),
        words=data["words"],
        phrases=data["phrases"],
    )


def _library_entries(library_dir: Path) -> list[dict]:
    rows = json.loads((library_dir / "openmoji" / "data" / "openmoji.json").read_text("utf-8"))
    return [
        row
        for row in rows
        if row["skintone"] == ""
        and row["group"] not in SKIPPED_GROUPS
        and row["subgroups"] not in SKIPPED_SUBGROUPS
    ]


def _keyed_by_emoji(mapping: dict) -> dict:
    return {key.replace("\ufe0f", ""): value for key, value in mapping.items()}


def _split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _entry_terms(row: dict, emojilib: dict, spanish: dict) -> list[tuple[str, float]]:
    """Every name or keyword of one picture with the weight of its source."""
    emoji = row["emoji"].replace("\ufe0f", "")
    terms = [(row["annotation"].replace(":", " "), NAME)]
    terms += [(t, CLDR_TAGS) for t in _split_tags(row["tags"])]
    terms += [(t, OPENMOJI_TAGS) for t in _split_tags(row["openmoji_tags"])]
    terms += [(k.replace("_", " "), EMOJILIB) for k in emojilib.get(emoji, [])]
    names_es = spanish.get(emoji, {})
    terms += [(t, SPANISH_NAME) for t in names_es.get("tts", [])]
    terms += [(t, SPANISH_TAGS) for t in names_es.get("default", [])]
    return terms


def _build_postings(library_dir: Path) -> dict:
    rows = _library_entries(library_dir)
    emojilib = _keyed_by_emoji(
        json.loads((library_dir / "emojilib" / "dist" / "emoji-en-US.json").read_text("utf-8"))
    )
    spanish_file = (
        library_dir / "cldr-annotations-modern" / "annotations" / "es" / "annotations.json"
    )
    spanish = {}
    if spanish_file.is_file():
        spanish = _keyed_by_emoji(
            json.loads(spanish_file.read_text("utf-8"))["annotations"]["annotations"]
        )
    words: dict[str, dict[int, float]] = {}
    phrases: dict[str, dict[int, float]] = {}
    for number, row in enumerate(rows):
        for term, weight in _entry_terms(row, emojilib, spanish):
            _add_term(term, weight, number, words, phrases)
    return {
        "format": INDEX_FORMAT,
        "entries": [
            (row["hexcode"], row["annotation"], _prior(row), _spanish_name(row, spanish))
            for row in rows
        ],
        "words": _weighted_by_rarity(words, len(rows)),
        "phrases": _weighted_by_rarity(phrases, len(rows)),
    }


def _spanish_name(row: dict, spanish: dict) -> str:
    names = spanish.get(row["emoji"].replace("\ufe0f", ""), {}).get("tts", [])
    return names[0] if names else ""


def _prior(row: dict) -> float:
    subgroup = row["subgroups"]
    is_face = subgroup.startswith("face-") or subgroup == "cat-face"
    return FACE_PRIOR if is_face and subgroup != "face-costume" else 1.0


def _add_term(
    term: str,
    weight: float,
    entry: int,
    words: dict[str, dict[int, float]],
    phrases: dict[str, dict[int, float]],
) -> None:
    tokens = _content_words(term)
    if not tokens:
        return
    phrase = " ".join(_words(term))
    phrases.setdefault(phrase, {})[entry] = max(weight, phrases.get(phrase, {}).get(entry, 0.0))
    for token in tokens:
        for form, form_weight in _variants(token).items():
            posting = words.setdefault(form, {})
            posting[entry] = max(posting.get(entry, 0.0), weight * form_weight)


def _weighted_by_rarity(postings: dict[str, dict[int, float]], total: int) -> dict:
    """Scale each posting by how rare its word is: "face" is on hundreds of pictures."""
    weighted = {}
    for key, entries in postings.items():
        rarity = math.log(1 + total / len(entries)) / math.log(1 + total)
        weighted[key] = [(entry, round(w * rarity, 4)) for entry, w in sorted(entries.items())]
    return weighted


# ---- matching ------------------------------------------------------------------------------


def choose_illustrations(
    lines: Sequence[ScriptLine], index: IllustrationIndex
) -> list[IllustrationPick]:
    """One pick per line, best total first, no picture twice; a card where nothing fits.

    Pairs (line, picture) are taken from the highest score down, so a line whose best picture
    another line needs more keeps its second best; ties go to the earlier line and to the
    library's own order. The result is the same for the same lines and library.
    """
    ranked = [_ranked_candidates(line, index) for line in lines]
    pairs = sorted(
        (-score, line_number, entry)
        for line_number, candidates in enumerate(ranked)
        for entry, score in candidates
    )
    chosen: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for negative_score, line_number, entry in pairs:
        if line_number not in chosen and entry not in used:
            chosen[line_number] = (entry, -negative_score)
            used.add(entry)
    return [
        _picture_pick(index, *chosen[n]) if n in chosen else _card_pick(line)
        for n, line in enumerate(lines)
    ]


def attribution_for(picks: Iterable[IllustrationPick]) -> str:
    """The credit line(s) a video's description must carry for its picks ("" if none)."""
    credits = dict.fromkeys(pick.attribution for pick in picks if pick.attribution)
    return "\n".join(credits)


def _picture_pick(index: IllustrationIndex, entry: int, score: float) -> IllustrationPick:
    return IllustrationPick(
        path=index.paths[entry],
        name=index.names[entry],
        card_text="",
        score=round(score, 3),
        attribution=index.attribution,
    )


def _card_pick(line: ScriptLine) -> IllustrationPick:
    return IllustrationPick(
        path=None, name="card", card_text=card_text(line), score=0.0, attribution=""
    )


def card_text(line: ScriptLine) -> str:
    """The line's key number ("3%", "2 million"), else its first real keyword or longest word."""
    number = _NUMBER.search(line.text)
    if number:
        digits, percent, magnitude = number.groups()
        return digits + ("%" if percent else "") + (f" {magnitude.strip()}" if magnitude else "")
    spoken = [w for w in _words(line.text) if w in _NUMBER_WORDS]
    if spoken:
        return _NUMBER_WORDS[spoken[0]]
    for keyword in line.keywords:
        if _content_words(keyword):
            return keyword.strip()
    words = _WORD.findall(line.text)
    content = [w for w in words if not _is_filler(_fold(w))] or words
    return max(content, key=len, default="")


def _ranked_candidates(line: ScriptLine, index: IllustrationIndex) -> list[tuple[int, float]]:
    totals: dict[int, float] = {}
    support: dict[int, int] = {}
    for kind, unit_scores in _unit_scores(line, index):
        for entry, score in unit_scores.items():
            totals[entry] = totals.get(entry, 0.0) + score
            support[entry] = support.get(entry, 0) + (kind == "word")
    forms = _query_forms(line)
    scored = []
    for entry, total in totals.items():
        coverage = _name_coverage(index, entry, forms)
        # A picture whose name the line never says needs two of its words behind it: one tag
        # alone ("patience" on pinched fingers) is how a wrong picture would sneak in.
        if coverage == 0 and support[entry] < 2:
            continue
        score = total * index.priors[entry] * (0.8 + 0.2 * coverage)
        if score >= MIN_SCORE:
            scored.append((entry, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:CANDIDATES_PER_LINE]


def _query_units(line: ScriptLine) -> list[tuple[str, str, float]]:
    """(kind, folded text, weight): keyword phrases and words first, then the text's own."""
    units: list[tuple[str, str, float]] = []
    seen: set[str] = set()
    keywords = [k for k in line.keywords if _content_words(k)]
    for position, keyword in enumerate(keywords):
        words, weight = _content_words(keyword), KEYWORD_WEIGHT * KEYWORD_DECAY**position
        units.append(("phrase", " ".join(_words(keyword)), weight * PHRASE_BONUS))
        units += [("word", w, weight / len(words)) for w in words if w not in seen]
        seen.update(words)
    text_words = _content_words(line.text)
    units += [("word", w, 1.0) for w in dict.fromkeys(text_words) if w not in seen]
    units += [("phrase", f"{a} {b}", PHRASE_BONUS) for a, b in pairwise(text_words)]
    return units


def _unit_scores(
    line: ScriptLine, index: IllustrationIndex
) -> Iterable[tuple[str, dict[int, float]]]:
    synonyms = _tables().synonyms
    for kind, text, weight in _query_units(line):
        scores: dict[int, float] = {}
        postings = index.phrases if kind == "phrase" else index.words
        for form, form_weight in _variants(text).items():
            _keep_best(scores, postings.get(form, ()), weight * form_weight)
            for target in synonyms.get(form, ()):
                _keep_best(scores, index.phrases.get(target, ()), weight * SYNONYM_WEIGHT)
        yield kind, scores


def _keep_best(scores: dict[int, float], postings: Iterable[Sequence], scale: float) -> None:
    for entry, weight in postings:
        scores[entry] = max(scores.get(entry, 0.0), weight * scale)


def _query_forms(line: ScriptLine) -> set[str]:
    synonyms = _tables().synonyms
    forms: set[str] = set()
    for word in _content_words(" ".join([*line.keywords, line.text])):
        for form in _variants(word):
            forms.add(form)
            forms.update(w for target in synonyms.get(form, ()) for w in target.split())
    return forms


def _name_coverage(index: IllustrationIndex, entry: int, forms: set[str]) -> float:
    """How much of the picture's English or Spanish name the line says (prefers "cat" to
    "cat with wry smile" when the line only speaks of a cat)."""
    coverage = 0.0
    for name in (index.names[entry], index.spanish_names[entry]):
        name_words = _content_words(name)
        if name_words:
            covered = sum(1 for word in name_words if forms & set(_variants(word)))
            coverage = max(coverage, covered / len(name_words))
    return coverage
