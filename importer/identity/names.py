"""DICOM Person Name (PN) parsing and normalisation.

Pure functions over strings. A PN value has up to three component groups separated by ``=``
(alphabetic, ideographic, phonetic), each with up to five components separated by ``^``
(family, given, middle, prefix, suffix). Real media and RIS orders also hold names typed in one
field ("ROSSI MARIO"), "FAMILY, GIVEN", query wildcards and stray spaces; all are parsed here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Layout: TypeAlias = Literal["components", "comma", "free"]

WILDCARDS = frozenset("*%?")

#: Name particles (Italian, French, Spanish, Portuguese, Dutch, German, Arabic). A particle
#: moved between the family and the given name is a format difference; a dropped one is not.
PARTICLES = frozenset(
    {
        "AL", "D", "DA", "DAL", "DALLA", "DALLE", "DALLO", "DAS", "DE", "DEGLI", "DEI", "DEL",
        "DELLA", "DELLE", "DELLO", "DEN", "DER", "DES", "DI", "DO", "DOS", "DU", "EL", "L", "LA",
        "LE", "LI", "LO", "SAINT", "SAINTE", "ST", "TEN", "TER", "VAN", "VOM", "VON", "ZU", "ZUR",
    }
)  # fmt: skip

# Letters that NFKD does not decompose into a base letter plus marks.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "Ø": "O", "ø": "O",
        "Ł": "L", "ł": "L", "Đ": "D", "đ": "D", "Ð": "D", "ð": "D", "Þ": "TH", "þ": "TH",
        "ı": "I", "Ħ": "H", "ħ": "H", "Ŧ": "T", "ŧ": "T", "ĸ": "K", "Ŋ": "NG", "ŋ": "NG",
    }
)  # fmt: skip


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.combining(ch) != 0


def strip_accents(text: str) -> str:
    """Remove diacritics from Latin letters (É→E, Ç→C, ß→SS, Ø→O); other scripts are kept.

    Marks on non-Latin letters (Japanese dakuten, Cyrillic breve) change the letter, not only
    its accent, so they are preserved.
    """
    # Decompose first: compatibility letters (ᴭ, ℏ) decompose into the special letters.
    decomposed = unicodedata.normalize("NFKD", text).translate(_SPECIAL_LETTERS)
    kept: list[str] = []
    base_is_latin = False
    for ch in decomposed:
        if unicodedata.combining(ch):
            if not base_is_latin:
                kept.append(ch)
            continue
        base_is_latin = ch.isascii() and ch.isalpha()
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (separators kept). Idempotent.

    Upper-casing can decompose a letter (ΐ → Ϊ́, ǰ → J̌): the result is normalised again.
    """
    return strip_accents(strip_accents(text).upper())


def compact(text: str) -> str:
    """Folded letters and digits of `text` only: "D'Angelo" and "D ANGELO" give "DANGELO"."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


_GERMAN_UMLAUTS = str.maketrans({"Ä": "AE", "ä": "AE", "Ö": "OE", "ö": "OE", "Ü": "UE", "ü": "UE"})


def compact_transliterated(text: str) -> str:
    """Like :func:`compact`, with German umlauts written out (MÜLLER → MUELLER)."""
    return compact(unicodedata.normalize("NFC", text).translate(_GERMAN_UMLAUTS))


def word_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of each run of letters/digits in `text` (separators split words)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, ch in enumerate(text):
        if _is_word_char(ch):
            if start is None:
                start = index
        elif start is not None:
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


@dataclass(frozen=True, slots=True)
class NamePart:
    """A family or given name: its text as written and its folded words."""

    raw: str
    words: tuple[str, ...]

    @property
    def compact(self) -> str:
        """Folded letters without separators."""
        return "".join(self.words)

    @classmethod
    def of(cls, raw: str) -> NamePart:
        """Build a part from written text."""
        raw = " ".join(raw.split())
        words = tuple(w for w in (compact(raw[s:e]) for s, e in word_spans(raw)) if w)
        return cls(raw=raw, words=words)


EMPTY_PART = NamePart(raw="", words=())


@dataclass(frozen=True, slots=True)
class PersonName:
    """One component group of a PN value, parsed.

    `layout` is ``components`` for a caret-separated value, ``comma`` for "FAMILY, GIVEN" and
    ``free`` for a name typed in one field without separators (family holds all of it).
    `canonical` is the value with insignificant differences removed (surrounding and repeated
    spaces, trailing empty components); two names with equal `canonical` are the same name.
    """

    layout: Layout
    family: str
    given: str = ""
    middle: str = ""
    prefix: str = ""
    suffix: str = ""
    wildcard: bool = False
    canonical: str = field(default="", compare=False)

    @property
    def one_field(self) -> bool:
        """True when the whole name was typed in a single field."""
        if self.layout == "comma":
            return True
        only_family = not (self.given or self.middle or self.prefix or self.suffix)
        return only_family and len(NamePart.of(self.family).words) > 1


def split_groups(value: str | None) -> tuple[str, str, str]:
    """The three component groups (alphabetic, ideographic, phonetic) of a PN value."""
    if value is None:
        return ("", "", "")
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(ch for ch in text if ch == " " or unicodedata.category(ch)[0] != "C")
    groups = text.split("=")[:3]
    groups += [""] * (3 - len(groups))
    return (groups[0], groups[1], groups[2])


def _clean(text: str) -> str:
    return " ".join(text.split())


def parse_group(text: str) -> PersonName | None:
    """Parse one component group; None when it holds no letter or digit."""
    if not any(_is_word_char(ch) and ch not in WILDCARDS for ch in text):
        return None
    wildcard = any(ch in WILDCARDS for ch in text)
    plain = "".join(" " if ch in WILDCARDS else ch for ch in text)
    if "^" in text:
        raw_components = text.split("^")
        components = [_clean(c) for c in plain.split("^")]
        if len(components) > 5:
            components = [*components[:4], " ".join(components[4:])]
        components += [""] * (5 - len(components))
        canonical = "^".join(_clean(c) for c in raw_components).rstrip("^")
        if "^" not in canonical:
            # only trailing empty components ("ROSSI^"): the same name as without them
            return parse_group(canonical)
        family, given, middle, prefix, suffix = components
        return PersonName(
            layout="components",
            family=family,
            given=given,
            middle=middle,
            prefix=prefix,
            suffix=suffix,
            wildcard=wildcard,
            canonical=canonical,
        )
    if "," in plain:
        family, _, given = plain.partition(",")
        return PersonName(
            layout="comma",
            family=_clean(family),
            given=_clean(given),
            wildcard=wildcard,
            canonical=_clean(text),
        )
    return PersonName(
        layout="free", family=_clean(plain), wildcard=wildcard, canonical=_clean(text)
    )


def parse_person_name(value: str | None) -> PersonName | None:
    """Parse the first non-empty component group of a PN value (normally the alphabetic one)."""
    for group in split_groups(value):
        parsed = parse_group(group)
        if parsed is not None:
            return parsed
    return None


def select_groups(expected: str | None, found: str | None) -> tuple[PersonName | None, ...]:
    """Pick the component groups to compare from two PN values.

    The alphabetic groups when both have one; otherwise the first group both have (e.g. two
    ideographic-only names); otherwise each side's first non-empty group.
    """
    left = [parse_group(g) for g in split_groups(expected)]
    right = [parse_group(g) for g in split_groups(found)]
    for a, b in zip(left, right, strict=True):
        if a is not None and b is not None:
            return (a, b)
    first_left = next((a for a in left if a is not None), None)
    first_right = next((b for b in right if b is not None), None)
    return (first_left, first_right)


def strip_leading_particles(words: tuple[str, ...]) -> tuple[str, ...]:
    """Drop leading particles ("DE LA FONTAINE" → "FONTAINE"), keeping at least one word."""
    index = 0
    while index < len(words) - 1 and words[index] in PARTICLES:
        index += 1
    return words[index:]


def trailing_particles(words: tuple[str, ...]) -> int:
    """How many trailing words are particles, keeping at least one word before them."""
    count = 0
    while count < len(words) - 1 and words[len(words) - 1 - count] in PARTICLES:
        count += 1
    return count


def phonetic_key(word: str) -> str:
    """A rough Italian/French sound-alike key of a folded name.

    Equal keys mean "likely the same name misspelt" (LETTELLIER/LETELIER, KILLIAN/KYLIAN):
    doubled letters, Y/I, K/C/Q, PH/F, silent H, W/V and French vowel spellings are ignored.
    """
    text = word.upper()
    for old, new in (
        ("PH", "F"),
        ("EAU", "O"),
        ("AU", "O"),
        ("AI", "E"),
        ("EI", "E"),
        ("CK", "C"),
        ("TH", "T"),
        ("Y", "I"),
        ("K", "C"),
        ("Q", "C"),
        ("W", "V"),
        ("H", ""),
    ):
        text = text.replace(old, new)
    collapsed: list[str] = []
    for ch in text:
        if not collapsed or collapsed[-1] != ch:
            collapsed.append(ch)
    return "".join(collapsed)
