"""Worklist search from a patient identity: query building and ranking (pure, no I/O).

A Modality Worklist SCP matches Patient's Name literally (PS3.4 C.2.2.2): dcmtk ``wlmscpfs`` and
most RIS worklists compare bytes, case-sensitively, accents included; ``*`` matches any run of
characters (carets too) and ``?`` exactly one *byte* (half of an UTF-8 "É"). So the patterns
built here are upper case ASCII (RIS names are), every letter outside ASCII is replaced by ``*``
(``LEFÈVRE`` → ``LEF*VRE*`` matches both ``LEFÈVRE`` and ``LEFEVRE``), and words are joined with
``*`` so that spaces, hyphens, apostrophes and carets on either side do not matter.

When a step finds nothing the search relaxes, as the French seed procedure tells its users to
(docs/identity.md, "Worklist search"):

0. ``identifier``: the accession number and/or patient ID typed by the user, alone.
1. ``name``: every word of the family and given names, in the written order and swapped, plus
   the birth date.
2. ``name_prefix``: the first letters of the first word of each name (``LET*K*``), plus the
   birth date (without one: for the day): typos, compound names written differently.
3. ``birth_date``: the birth date alone, for the day.
4. ``family_prefix``: the first letters of the family name alone, for the day: a wrong birth
   date on the media (day and month swapped).

A query with no name, birth date nor identifier lists the day (``day``), as the French tool
does when its fields are emptied. Steps 1, 2 and 0 search every scheduled date unless a date is
given; "the day" is the given date, else today. The search stops at the first step that returns
anything; every candidate carries the step that found it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rapidfuzz import fuzz

from importer.identity.compare import compare_birth_dates, compare_patients, compare_sex
from importer.identity.names import NamePart, PersonName, parse_person_name, select_groups
from importer.identity.report import IdentityReport

__all__ = [
    "FAMILY_PREFIX_LETTERS",
    "GIVEN_PREFIX_LETTERS",
    "Candidate",
    "MatchingKeys",
    "SearchStep",
    "Step",
    "WorklistItem",
    "WorklistQuery",
    "name_patterns",
    "normalise_date",
    "rank_candidates",
    "search_steps",
    "similarity",
]

FAMILY_PREFIX_LETTERS = 3
"""Letters of the family name kept by the ``name_prefix`` and ``family_prefix`` steps."""
GIVEN_PREFIX_LETTERS = 1
"""Letters of the given name kept by the ``name_prefix`` step (KILLIAN, KYLIAN, KYLLIAN → K*)."""
MAX_NAME_WORDS = 8
"""Words of a name used in a pattern; more are ignored (a pasted sentence, not a name)."""

MAX_WORKLIST_ORDERS = 100
"""The most orders one request may look up in the worklist (one C-FIND each, on one
association): a confirmation names one per selected study."""


class Step(StrEnum):
    """The relaxation steps, in the order they are tried."""

    IDENTIFIER = "identifier"
    NAME = "name"
    NAME_PREFIX = "name_prefix"
    BIRTH_DATE = "birth_date"
    FAMILY_PREFIX = "family_prefix"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """What to look for: the identity read from the media, or what a user typed.

    ``name`` is a DICOM PN or a name typed in one field ("ROSSI MARIO", "Rossi, Mario",
    "ROSSI*"); ``given`` is the given name when typed in a field of its own. Dates are
    ``YYYYMMDD`` (``YYYY-MM-DD`` tolerated); ``scheduled_date`` may be a DICOM range
    (``20250101-20250107``).
    """

    name: str = ""
    given: str = ""
    birth_date: str = ""
    sex: str = ""
    scheduled_date: str = ""
    accession_number: str = ""
    patient_id: str = ""

    @property
    def person_name(self) -> str:
        """The name as one PN value (``name^given`` when the given name was typed apart)."""
        name, given = self.name.strip(), self.given.strip()
        if given:
            return f"{name}^{given}"
        return name

    def identity(self) -> dict[str, str | None]:
        """The identity to rank candidates against, as :func:`compare_patients` takes it."""
        return {"name": self.person_name, "birth_date": self.birth_date, "sex": self.sex}


@dataclass(frozen=True, slots=True)
class WorklistItem:
    """One requested procedure returned by the worklist (the order a study may be filed under)."""

    accession_number: str = ""
    requested_procedure_id: str = ""
    requested_procedure_description: str = ""
    procedure_code: str = ""
    modality: str = ""
    scheduled_date: str = ""
    scheduled_time: str = ""
    patient_name: str = ""
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    procedure_code_scheme: str = ""
    scheduled_procedure_step_id: str = ""

    def identity(self) -> dict[str, str | None]:
        """The order's patient, as :func:`compare_patients` takes it."""
        return {
            "name": self.patient_name,
            "birth_date": self.patient_birth_date,
            "sex": self.patient_sex,
            "id": self.patient_id,
        }

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two answers the same order: the accession number, when there is one."""
        if self.accession_number:
            return (self.accession_number,)
        return (
            "",
            self.patient_id,
            self.requested_procedure_id,
            self.scheduled_date,
            self.scheduled_time,
            self.patient_name,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A worklist item proposed for an import, with how well its patient matches."""

    item: WorklistItem
    identity: IdentityReport
    score: float
    step: str


@dataclass(frozen=True, slots=True)
class MatchingKeys:
    """The matching keys of one Modality Worklist C-FIND (empty = universal matching)."""

    patient_name: str = ""
    birth_date: str = ""
    scheduled_date: str = ""
    accession_number: str = ""
    patient_id: str = ""


@dataclass(frozen=True, slots=True)
class SearchStep:
    """One relaxation step: its label and the C-FINDs it runs (their answers are merged)."""

    step: Step
    queries: tuple[MatchingKeys, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- values

_DATE = re.compile(r"^(\d{4})[-./]?(\d{2})[-./]?(\d{2})$")


def normalise_date(value: str | None) -> str:
    """A date as DICOM DA (``YYYYMMDD``), or "" when `value` is empty or not a real date."""
    matched = _DATE.match((value or "").strip())
    if matched is None:
        return ""
    try:
        return date(int(matched[1]), int(matched[2]), int(matched[3])).strftime("%Y%m%d")
    except ValueError:
        return ""


_RANGE = re.compile(r"^(\d{8})-(\d{8})$")


def _scheduled_day(value: str) -> str:
    """A typed scheduled date or ``YYYYMMDD-YYYYMMDD`` range, normalised to DICOM DA.

    Raises ValueError otherwise: a date typed by a user is never silently widened.
    """
    text = value.strip()
    matched = _RANGE.match(text)
    if matched is not None:
        first, last = normalise_date(matched[1]), normalise_date(matched[2])
        if first and last and first <= last:
            return f"{first}-{last}"
        raise ValueError("the scheduled date range is not a valid YYYYMMDD-YYYYMMDD range")
    day = normalise_date(text)
    if not day:
        raise ValueError("the scheduled date is not a valid YYYYMMDD date")
    return day


def _day_of(value: str) -> date | None:
    day = normalise_date(value[:8])
    return date(int(day[:4]), int(day[4:6]), int(day[6:])) if day else None


# --------------------------------------------------------------------------- name patterns


def _pattern_word(word: str) -> str:
    """A word as a literal-matching pattern: ASCII letters and digits upper-cased, any other
    letter (É, Ü, ß, 山) replaced by ``*``."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", word):
        piece = ch.upper() if ch.isascii() and ch.isalnum() else "*"
        if piece == "*" and out and out[-1] == "*":
            continue
        out.append(piece)
    return "".join(out)


def _split_words(text: str) -> list[str]:
    """The pattern words of `text`: separators (space, hyphen, dash, apostrophe, underscore,
    caret, comma) and typed wildcards split words; words without an ASCII letter or digit are
    dropped, as they would match anything."""
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join(ch if ch.isalnum() or unicodedata.combining(ch) else " " for ch in text)
    words = (_pattern_word(word) for word in cleaned.split())
    return [w for w in words if any(ch != "*" for ch in w)][:MAX_NAME_WORDS]


def _join(words: Sequence[str]) -> str:
    """Words joined by ``*`` with a trailing ``*``: "ROSSI", "MARIO" → ``ROSSI*MARIO*``."""
    pattern = "*".join(words) + "*"
    return re.sub(r"\*+", "*", pattern)


def _prefix(word: str, letters: int) -> str:
    """The start of a pattern word holding `letters` letters or digits (``*`` kept)."""
    out: list[str] = []
    taken = 0
    for ch in word:
        if taken == letters:
            break
        out.append(ch)
        taken += ch != "*"
    return "".join(out)


def _parts(query: WorklistQuery) -> tuple[list[str], list[str], bool] | None:
    """(family words, given words, known split) of the query's name; None without a name.

    A name typed in one field without carets or comma ("ROSSI MARIO") has no known split:
    all its words are in the first list.
    """
    family_text, given_text = query.name, query.given
    if not given_text.strip():
        parsed: PersonName | None = parse_person_name(query.name)
        if parsed is None:
            return None
        if parsed.layout == "free":
            words = _split_words(parsed.family)
            return (words, [], False) if words else None
        family_text = parsed.family
        given_text = f"{parsed.given} {parsed.middle}"
    family, given = _split_words(family_text), _split_words(given_text)
    if not family and not given:
        return None
    return family, given, True


def name_patterns(query: WorklistQuery) -> tuple[list[str], list[str], list[str]]:
    """The Patient's Name patterns of the name steps: (``name``, ``name_prefix``,
    ``family_prefix``), each in the written order first, then swapped; duplicates removed."""
    parts = _parts(query)
    if parts is None:
        return [], [], []
    family, given, split_known = parts
    full: list[str] = []
    prefix: list[str] = []
    family_only: list[str] = []
    if split_known:
        orders = [(family, given), (given, family)] if family and given else [(family, given)]
        for first, second in orders:
            head = first or second
            tail = second if first else []
            full.append(_join([*first, *second]))
            prefix.append(
                _join(
                    [
                        _prefix(head[0], FAMILY_PREFIX_LETTERS),
                        *([_prefix(tail[0], GIVEN_PREFIX_LETTERS)] if tail else []),
                    ]
                )
            )
            family_only.append(_join([_prefix(head[0], FAMILY_PREFIX_LETTERS)]))
    else:
        words = family
        # Every rotation: "MARIO ROSSI" is also tried as "ROSSI MARIO".
        for cut in range(len(words)):
            full.append(_join([*words[cut:], *words[:cut]]))
        readings = [(words[0], words[1:2])]
        if len(words) > 1:
            readings.append((words[-1], words[:1]))
        for head_word, tail_words in readings:
            prefix.append(
                _join(
                    [
                        _prefix(head_word, FAMILY_PREFIX_LETTERS),
                        *(_prefix(w, GIVEN_PREFIX_LETTERS) for w in tail_words),
                    ]
                )
            )
            family_only.append(_join([_prefix(head_word, FAMILY_PREFIX_LETTERS)]))
    return _unique(full), _unique(prefix), _unique(family_only)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- steps


def search_steps(query: WorklistQuery, *, today: date) -> list[SearchStep]:
    """The C-FINDs to try, step by step, for `query` (see the module docstring).

    Steps that would repeat an earlier query, or match without any key but the day, are left
    out. Raises ValueError when ``scheduled_date`` is given but is not a date or range.
    """
    birth_date = normalise_date(query.birth_date)
    given_day = _scheduled_day(query.scheduled_date) if query.scheduled_date.strip() else ""
    day = given_day or today.strftime("%Y%m%d")
    full, prefix, family_only = name_patterns(query)
    accession = query.accession_number.strip()
    patient_id = query.patient_id.strip()

    candidates: list[SearchStep] = []
    if accession or patient_id:
        keys = MatchingKeys(
            accession_number=accession, patient_id=patient_id, scheduled_date=given_day
        )
        candidates.append(SearchStep(Step.IDENTIFIER, (keys,)))
    if full:
        candidates.append(
            SearchStep(
                Step.NAME,
                tuple(MatchingKeys(p, birth_date, given_day) for p in full),
            )
        )
    if prefix:
        # A few letters match many patients: without a birth date, only on the day.
        prefix_day = given_day if birth_date else day
        candidates.append(
            SearchStep(
                Step.NAME_PREFIX,
                tuple(MatchingKeys(p, birth_date, prefix_day) for p in prefix),
            )
        )
    if birth_date:
        candidates.append(SearchStep(Step.BIRTH_DATE, (MatchingKeys("", birth_date, day),)))
    if family_only:
        candidates.append(
            SearchStep(Step.FAMILY_PREFIX, tuple(MatchingKeys(p, "", day) for p in family_only))
        )
    if not candidates:
        return [SearchStep(Step.DAY, (MatchingKeys(scheduled_date=day),))]

    steps: list[SearchStep] = []
    seen: set[MatchingKeys] = set()
    for candidate in candidates:
        fresh = tuple(keys for keys in candidate.queries if keys not in seen)
        seen.update(fresh)
        if fresh:
            steps.append(SearchStep(candidate.step, fresh))
    return steps


# --------------------------------------------------------------------------- ranking

_VALUE_SCORE: dict[str, float] = {
    "match": 1.0,
    "format_different": 1.0,
    "similar": 0.5,
    "missing": 0.25,
    "mismatch": 0.0,
}
_WEIGHTS = {"name": 0.6, "birth_date": 0.3, "sex": 0.1}
_OVERALL_ORDER = {"match": 0, "format_different": 1, "mismatch": 2}
_AGREEING = frozenset({"match", "format_different"})


def _name_words(person: PersonName | None) -> str:
    if person is None:
        return ""
    return " ".join(NamePart.of(f"{person.family} {person.given} {person.middle}").words)


def similarity(expected: Mapping[str, str | None], found: Mapping[str, str | None]) -> float:
    """How alike two identities are, from 0 to 1, to order candidates of the same outcome.

    Name (60 %): rapidfuzz's token sort ratio of the folded words (word order, case, accents
    and separators do not count). Birth date (30 %) and sex (10 %): 1 when equal, 0.5 when
    similar (day and month swapped), 0.25 when missing, 0 when different.
    """
    left, right = select_groups(expected.get("name"), found.get("name"))
    a, b = _name_words(left), _name_words(right)
    name = fuzz.token_sort_ratio(a, b) / 100 if a and b else 0.0
    date_status, _ = compare_birth_dates(expected.get("birth_date"), found.get("birth_date"))
    sex_status, _ = compare_sex(expected.get("sex"), found.get("sex"))
    score = (
        _WEIGHTS["name"] * name
        + _WEIGHTS["birth_date"] * _VALUE_SCORE[date_status]
        + _WEIGHTS["sex"] * _VALUE_SCORE[sex_status]
    )
    return round(score, 4)


def rank_candidates(
    items: Iterable[WorklistItem],
    expected: Mapping[str, str | None],
    *,
    step: str,
    reference_day: date,
    limit: int | None = None,
) -> list[Candidate]:
    """Candidates for `items`, de-duplicated by accession number, best first.

    Each item's patient (the order) is compared with `expected` (the media or what was typed)
    by :func:`compare_patients`. Order: overall outcome (match, format_different, mismatch),
    then the number of fields that disagree (similar, missing or mismatch: an exact name with
    a wrong birth year before a twin), then :func:`similarity`, then the scheduled date
    closest to `reference_day`, then time and accession number.
    """
    unique: dict[tuple[str, ...], WorklistItem] = {}
    for item in items:
        unique.setdefault(item.key, item)
    candidates = [
        Candidate(
            item=item,
            identity=compare_patients(item.identity(), expected),
            score=similarity(item.identity(), expected),
            step=step,
        )
        for item in unique.values()
    ]

    def order(candidate: Candidate) -> tuple[int, int, float, int, str, str, str]:
        scheduled = _day_of(candidate.item.scheduled_date)
        distance = abs((scheduled - reference_day).days) if scheduled else 1_000_000
        fields = candidate.identity.fields.values()
        disagreeing = sum(status not in _AGREEING for status in fields)
        return (
            _OVERALL_ORDER[candidate.identity.overall],
            disagreeing,
            -candidate.score,
            distance,
            candidate.item.scheduled_date,
            candidate.item.scheduled_time,
            candidate.item.accession_number,
        )

    ranked = sorted(candidates, key=order)
    return ranked if limit is None else ranked[:limit]
