"""Compare the patient identity of an order with the one found on the media.

Safety rules (DESIGN §6): a field is ``match`` only when its values are the same; the same
letters arranged differently are ``format_different``; a likely misspelling is ``similar`` and is
never accepted silently (twins differ by one letter of the given name); anything else is
``mismatch``; an empty value on either side is ``missing``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from rapidfuzz.distance import DamerauLevenshtein

from importer.identity.names import (
    EMPTY_PART,
    NamePart,
    PersonName,
    compact,
    compact_transliterated,
    phonetic_key,
    select_groups,
    strip_accents,
    strip_leading_particles,
    trailing_particles,
    word_spans,
)
from importer.identity.reasons import Reason, ordered
from importer.identity.report import FieldStatus, IdentityReport, overall_of, rank

__all__ = ["compare_birth_dates", "compare_names", "compare_patients", "compare_sex"]


class _Part(Enum):
    """How two family (or given) names relate."""

    EQUAL = "equal"
    REORDERED = "reordered"
    PARTICLE_MISSING = "particle_missing"
    PARTIAL = "partial"
    MISSING = "missing"
    TYPO = "typo"
    DIFFERENT = "different"


_PART_REASONS: dict[tuple[_Part, bool], Reason] = {
    (_Part.PARTICLE_MISSING, True): Reason.NAME_PARTICLE_MISSING,
    (_Part.PARTIAL, True): Reason.FAMILY_NAME_PARTIAL,
    (_Part.PARTIAL, False): Reason.GIVEN_NAME_PARTIAL,
    (_Part.MISSING, True): Reason.FAMILY_NAME_MISSING,
    (_Part.MISSING, False): Reason.GIVEN_NAME_MISSING,
    (_Part.TYPO, True): Reason.NAME_TYPO,
    (_Part.TYPO, False): Reason.GIVEN_NAME_TYPO,
    (_Part.DIFFERENT, True): Reason.FAMILY_NAME_DIFFERS,
    (_Part.DIFFERENT, False): Reason.GIVEN_NAME_DIFFERS,
}


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way to read a name as (family, given)."""

    family: NamePart
    given: NamePart
    swapped: bool = False
    particle_moved: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: FieldStatus
    reasons: frozenset[Reason]

    @property
    def key(self) -> tuple[int, int]:
        return (rank(self.status), len(self.reasons))


# --------------------------------------------------------------------------- names


def _slice(raw: str, spans: list[tuple[int, int]], start: int, stop: int) -> NamePart:
    if start >= stop:
        return EMPTY_PART
    return NamePart.of(raw[spans[start][0] : spans[stop - 1][1]])


def _with_moved_particles(reading: _Reading) -> Iterator[_Reading]:
    """Also read "FONTAINE^JEAN DE LA" as "DE LA FONTAINE^JEAN"."""
    yield reading
    count = trailing_particles(reading.given.words)
    if count and not reading.particle_moved:
        spans = word_spans(reading.given.raw)
        cut = len(spans) - count
        if cut > 0 and len(spans) == len(reading.given.words):
            particles = _slice(reading.given.raw, spans, cut, len(spans))
            given = _slice(reading.given.raw, spans, 0, cut)
            family = NamePart.of(f"{particles.raw} {reading.family.raw}")
            yield _Reading(family, given, reading.swapped, particle_moved=True)


def _readings(name: PersonName) -> list[_Reading]:
    """Every plausible (family, given) reading of `name`, the written order first."""
    found: list[_Reading] = []
    if name.one_field and name.layout != "comma":
        raw = " ".join(name.family.split())
        spans = word_spans(raw)
        for cut in range(1, len(spans)):
            head = _slice(raw, spans, 0, cut)
            tail = _slice(raw, spans, cut, len(spans))
            found.append(_Reading(head, tail))
            found.append(_Reading(tail, head, swapped=True))
        found.append(_Reading(NamePart.of(raw), EMPTY_PART))
    else:
        family = NamePart.of(name.family)
        given = NamePart.of(f"{name.given} {name.middle}")
        found.append(_Reading(family, given))
        found.append(_Reading(given, family, swapped=True))
    return [alt for reading in found for alt in _with_moved_particles(reading)]


def _format_reasons(a: str, b: str) -> set[Reason]:
    """Which of case, accents and separators explain the difference between `a` and `b`."""
    if " ".join(a.split()) == " ".join(b.split()):
        return set()

    def seps(text: str) -> str:
        return "".join(ch for ch in text if ch.isalnum())

    transforms: dict[Reason, Callable[[str], str]] = {
        Reason.NAME_ACCENTS: strip_accents,
        Reason.NAME_CASE: str.upper,
        Reason.NAME_SEPARATOR: seps,
    }
    order = [Reason.NAME_ACCENTS, Reason.NAME_CASE, Reason.NAME_SEPARATOR]
    subsets = [[r] for r in order] + [
        [order[0], order[1]],
        [order[0], order[2]],
        [order[1], order[2]],
        order,
    ]
    for subset in subsets:
        x, y = a, b
        for reason in order:
            if reason in subset:
                x, y = transforms[reason](x), transforms[reason](y)
        if x == y:
            return set(subset)
    return {Reason.NAME_SEPARATOR}


def _is_partial(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One name is the other with words (or all but an initial) left out."""
    small, large = (a, b) if len("".join(a)) <= len("".join(b)) else (b, a)
    if not Counter(small) - Counter(large):
        return True
    joined_small, joined_large = "".join(small), "".join(large)
    return len(joined_small) == 1 and joined_large.startswith(joined_small)


def _transliterated_words(part: NamePart) -> tuple[str, ...]:
    """The words of `part` with German umlauts written out (MÜLLER → MUELLER)."""
    words = (compact_transliterated(part.raw[s:e]) for s, e in word_spans(part.raw))
    return tuple(w for w in words if w)


# Relations between two non-empty, different parts, best first.
_SEVERITY = (_Part.REORDERED, _Part.PARTICLE_MISSING, _Part.PARTIAL, _Part.TYPO, _Part.DIFFERENT)


def _relation(a: tuple[str, ...], b: tuple[str, ...], *, family: bool) -> _Part:
    """How two different, non-empty word lists relate."""
    ca, cb = "".join(a), "".join(b)
    if ca == cb:
        return _Part.EQUAL
    if Counter(a) == Counter(b):
        return _Part.REORDERED  # "GARCIA LOPEZ" / "LOPEZ GARCIA": the same words
    if family and "".join(strip_leading_particles(a)) == "".join(strip_leading_particles(b)):
        return _Part.PARTICLE_MISSING
    if _is_partial(a, b):
        return _Part.PARTIAL
    distance = DamerauLevenshtein.distance(ca, cb)
    shortest = min(len(ca), len(cb))
    if distance <= 1 or (distance <= 2 and shortest >= 8) or phonetic_key(ca) == phonetic_key(cb):
        return _Part.TYPO
    return _Part.DIFFERENT


def _compare_part(a: NamePart, b: NamePart, *, family: bool) -> tuple[_Part, set[Reason]]:
    ca, cb = a.compact, b.compact
    if ca == cb:
        return _Part.EQUAL, _format_reasons(a.raw, b.raw) if ca else set()
    if not ca or not cb:
        return _Part.MISSING, set()
    plain = _relation(a.words, b.words, family=family)
    # German umlauts written out (MÜLLER / MUELLER) are an accent difference, also when the
    # names differ otherwise (VON BÜLOW / BUELOW: particle missing, not different).
    written_out = _relation(_transliterated_words(a), _transliterated_words(b), family=family)
    if written_out is _Part.EQUAL:
        return _Part.EQUAL, {Reason.NAME_ACCENTS}
    relation = min(plain, written_out, key=_SEVERITY.index)
    if relation is _Part.REORDERED:
        return relation, {Reason.NAME_ORDER_SWAPPED}
    return relation, set()


def _compare_readings(left: PersonName, right: PersonName, a: _Reading, b: _Reading) -> _Outcome:
    reasons: set[Reason] = set()
    worst = "match"
    for family, part_a, part_b in ((True, a.family, b.family), (False, a.given, b.given)):
        relation, found = _compare_part(part_a, part_b, family=family)
        reasons |= found
        if relation in (_Part.EQUAL, _Part.REORDERED):
            continue
        reasons.add(_PART_REASONS[(relation, family)])
        if relation is _Part.DIFFERENT:
            worst = "mismatch"
        elif worst != "mismatch":
            worst = "similar"
    if a.swapped != b.swapped:
        reasons.add(Reason.NAME_ORDER_SWAPPED)
    if a.particle_moved or b.particle_moved:
        reasons.add(Reason.NAME_PARTICLE)
    if left.one_field != right.one_field:
        reasons.add(Reason.NAME_ONE_FIELD)
    if (
        not left.one_field
        and not right.one_field
        and compact(left.middle) != compact(right.middle)
        and worst == "match"
        and not (a.particle_moved or b.particle_moved)
    ):
        reasons.add(Reason.NAME_MIDDLE_NAME)
    if compact(left.prefix) != compact(right.prefix):
        reasons.add(Reason.NAME_PREFIX_SUFFIX)
    suffix_a, suffix_b = compact(left.suffix), compact(right.suffix)
    if suffix_a != suffix_b:
        if suffix_a and suffix_b:
            reasons.add(Reason.NAME_SUFFIX_DIFFERS)
            worst = "mismatch"
        else:
            reasons.add(Reason.NAME_PREFIX_SUFFIX)
    if left.wildcard or right.wildcard:
        reasons.add(Reason.NAME_WILDCARD)
    if worst == "match":
        if not reasons:
            # Written differently in a way none of the codes names: never a silent match.
            reasons.add(Reason.NAME_SEPARATOR)
        return _Outcome("format_different", frozenset(reasons))
    return _Outcome("mismatch" if worst == "mismatch" else "similar", frozenset(reasons))


def compare_names(expected: str | None, found: str | None) -> tuple[FieldStatus, set[Reason]]:
    """Compare two DICOM PN values."""
    left, right = select_groups(expected, found)
    if left is None or right is None:
        return "missing", {Reason.NAME_MISSING}
    if left.canonical == right.canonical:
        return "match", set()
    best: _Outcome | None = None
    for a in _readings(left):
        for b in _readings(right):
            outcome = _compare_readings(left, right, a, b)
            if best is None or outcome.key < best.key:
                best = outcome
    assert best is not None
    return best.status, set(best.reasons)


# --------------------------------------------------------------------------- dates, sex

_DATE = re.compile(r"^(\d{4})([-./]?)(\d{2})\2(\d{2})$")


def _parse_date(value: str) -> date | None:
    matched = _DATE.match(value)
    if matched is None:
        return None
    try:
        return date(int(matched[1]), int(matched[3]), int(matched[4]))
    except ValueError:
        return None


def compare_birth_dates(expected: str | None, found: str | None) -> tuple[FieldStatus, set[Reason]]:
    """Compare two birth dates (DICOM DA ``YYYYMMDD``; ``YYYY-MM-DD``/``YYYY.MM.DD`` tolerated)."""
    a, b = (expected or "").strip(), (found or "").strip()
    if not a or not b:
        return "missing", {Reason.BIRTH_DATE_MISSING}
    if a == b:
        return "match", set()
    da, db = _parse_date(a), _parse_date(b)
    if da is None or db is None:
        return "mismatch", {Reason.BIRTH_DATE_INVALID}
    if da == db:
        return "format_different", {Reason.BIRTH_DATE_FORMAT}
    if da.year == db.year and da.month == db.day and da.day == db.month:
        return "similar", {Reason.BIRTH_DATE_DAY_MONTH_SWAPPED}
    return "mismatch", {Reason.BIRTH_DATE_DIFFERS}


def compare_sex(expected: str | None, found: str | None) -> tuple[FieldStatus, set[Reason]]:
    """Compare two DICOM sex codes (M, F, O), case-insensitively."""
    a, b = (expected or "").strip().upper(), (found or "").strip().upper()
    if not a or not b:
        return "missing", {Reason.SEX_MISSING}
    if a == b:
        return "match", set()
    return "mismatch", {Reason.SEX_DIFFERS}


# --------------------------------------------------------------------------- patients


def compare_patients(
    expected: Mapping[str, str | None], found: Mapping[str, str | None]
) -> IdentityReport:
    """Compare the expected identity (the order) with the one found (the media).

    Keys: ``name`` (DICOM PN), ``birth_date`` (YYYYMMDD), ``sex`` (M/F/O); ``id`` is
    informational and not compared (the media's ID belongs to another hospital).
    """
    name_status, name_reasons = compare_names(expected.get("name"), found.get("name"))
    date_status, date_reasons = compare_birth_dates(
        expected.get("birth_date"), found.get("birth_date")
    )
    sex_status, sex_reasons = compare_sex(expected.get("sex"), found.get("sex"))
    fields: dict[str, FieldStatus] = {
        "name": name_status,
        "birth_date": date_status,
        "sex": sex_status,
    }
    return IdentityReport(
        overall=overall_of(fields),
        fields=dict(fields),
        reasons=ordered(name_reasons | date_reasons | sex_reasons),
    )
