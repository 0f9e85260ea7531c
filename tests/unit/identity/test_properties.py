"""Property tests of the identity comparison (hypothesis)."""

from __future__ import annotations

import string
from collections.abc import Callable

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from importer.identity import (
    compact,
    compare_names,
    compare_patients,
    fold,
    parse_person_name,
    strip_accents,
)
from importer.identity.names import compact_transliterated

LETTERS = string.ascii_uppercase + "ÀÂÇÈÉÊËÎÏÔÙÛÜÄÖßØŁ"
SEPARATORS = [" ", "-", "'"]


@st.composite
def name_words(draw: st.DrawFn, alphabet: str = LETTERS) -> str:
    """One family or given name, possibly compound ("JEAN-PIERRE", "D'ANGELO")."""
    words = draw(st.lists(st.text(alphabet, min_size=1, max_size=10), min_size=1, max_size=3))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True))[:-1]


@st.composite
def person_names(draw: st.DrawFn, alphabet: str = LETTERS) -> str:
    """A DICOM PN value, caret-separated or typed in one field."""
    family = draw(name_words(alphabet))
    given_name = draw(name_words(alphabet))
    form = draw(st.sampled_from(["pn", "pn_middle", "pn_trailing", "free", "comma", "groups"]))
    if form == "pn":
        return f"{family}^{given_name}"
    if form == "pn_middle":
        return f"{family}^{given_name}^{draw(name_words(alphabet))}"
    if form == "pn_trailing":
        return f"{family}^{given_name}^^^"
    if form == "free":
        return f"{family} {given_name}"
    if form == "comma":
        return f"{family}, {given_name}"
    return f"{family}^{given_name}=山田^太郎=やまだ^たろう"


dates = st.dates().map(lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}")
sexes = st.sampled_from(["M", "F", "O"])
identities = st.fixed_dictionaries({"name": person_names(), "birth_date": dates, "sex": sexes})


@given(identities)
def test_same_identity_matches(identity: dict[str, str]) -> None:
    report = compare_patients(identity, dict(identity))
    assert report.overall == "match"
    assert report.reasons == ()


@settings(max_examples=300)
@given(
    st.fixed_dictionaries({"name": person_names("ABIO"), "birth_date": dates, "sex": sexes}),
    st.fixed_dictionaries({"name": person_names("ABIO"), "birth_date": dates, "sex": sexes}),
)
def test_overall_is_symmetric(a: dict[str, str], b: dict[str, str]) -> None:
    assert compare_patients(a, b).overall == compare_patients(b, a).overall
    assert compare_patients(a, b).fields == compare_patients(b, a).fields


@settings(max_examples=300)
@given(
    family=name_words(),
    given_name=name_words(),
    position=st.integers(min_value=0),
    letter=st.sampled_from(string.ascii_uppercase),
    found_form=st.sampled_from(["{f}^{g}", "{g}^{f}", "{f} {g}", "{g} {f}", "{f}, {g}"]),
)
def test_one_letter_of_given_name_is_never_accepted(
    family: str, given_name: str, position: int, letter: str, found_form: str
) -> None:
    letters = [i for i, ch in enumerate(given_name) if ch.isalpha()]
    index = letters[position % len(letters)]
    assume(fold(given_name[index]) != letter)
    changed = given_name[:index] + letter + given_name[index + 1 :]
    expected = {"name": f"{family}^{given_name}", "birth_date": "20100101", "sex": "F"}
    found = {
        "name": found_form.format(f=family, g=changed),
        "birth_date": "20100101",
        "sex": "F",
    }
    report = compare_patients(expected, found)
    assert report.fields["name"] in {"similar", "mismatch"}
    assert report.overall == "mismatch"


@given(family=name_words(), given_name=name_words())
def test_format_changes_are_never_mismatch(family: str, given_name: str) -> None:
    original = f"{family}^{given_name}"
    for variant in (
        original.lower(),
        f"{given_name}^{family}",
        f"{family} {given_name}",
        f"{family}, {given_name}",
        original.replace("-", " "),
        original.replace("'", ""),
        f"{family}*^{given_name}",
    ):
        status, _ = compare_names(original, variant)
        assert status in {"match", "format_different"}, variant


@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_is_handled(a: str, b: str) -> None:
    report = compare_patients({"name": a, "birth_date": a, "sex": a}, {"name": b, "birth_date": b})
    assert report.overall in {"match", "format_different", "mismatch"}
    assert set(report.fields) == {"name", "birth_date", "sex"}


def _letters(value: str) -> list[str]:
    parsed = parse_person_name(value)
    assert parsed is not None
    return sorted(compact(f"{parsed.family} {parsed.given} {parsed.middle}"))


@settings(max_examples=300)
@given(person_names("ABEIOÉ"), person_names("ABEIOÉ"))
def test_accepted_names_have_the_same_letters(a: str, b: str) -> None:
    """match/format_different only ever rearrange letters: none added, dropped or changed."""
    status, _ = compare_names(a, b)
    if status in {"match", "format_different"}:
        assert _letters(a) == _letters(b)


# --------------------------------------------------------------------------- normalisation


@settings(max_examples=500)
@given(st.text(max_size=30))
def test_normalisation_is_idempotent(text: str) -> None:
    for normalise in (strip_accents, fold, compact, compact_transliterated):
        once = normalise(text)
        assert normalise(once) == once, normalise.__name__


@given(st.sampled_from(["ΐ", "ǰ", "ᴭ", "ℏ", "ǅ", "ﬁ", "Ǿ", "İ", "ŉ"]), st.text(max_size=5))
def test_normalisation_is_idempotent_on_letters_that_change_when_upper_cased(
    letter: str, rest: str
) -> None:
    for normalise in (strip_accents, fold, compact):
        once = normalise(letter + rest)
        assert normalise(once) == once, normalise.__name__


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=30), person_names()))
def test_parsing_a_canonical_name_gives_it_back(value: str) -> None:
    parsed = parse_person_name(value)
    if parsed is None:
        return
    again = parse_person_name(parsed.canonical)
    assert again is not None
    assert again.canonical == parsed.canonical
    assert again == parsed


# --------------------------------------------------------------------------- formatting only

_FORMAT_CHANGES: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "title": str.title,
    "accents stripped": strip_accents,
    "hyphen as space": lambda text: text.replace("-", " "),
    "hyphen as spaced en dash": lambda text: text.replace("-", " – "),
    "hyphen as underscore": lambda text: text.replace("-", "_"),
    "separators dropped": lambda text: text.replace("-", "").replace("'", "").replace(" ", ""),
    "typographic apostrophe": lambda text: text.replace("'", "’"),
    "apostrophe as space": lambda text: text.replace("'", " "),
    "doubled spaces": lambda text: text.replace(" ", "  "),
}

_LAYOUTS = [
    "{f}^{g}",
    "{g}^{f}",
    "{f} {g}",
    "{g} {f}",
    "{f}, {g}",
    "{g}, {f}",
    "{f}^{g}^^^",
    "  {f} ^ {g}  ",
    "{f}*^{g}",
    "{f}%^{g}?",
    "{f}^{g}=山田^太郎=やまだ^たろう",
]


@settings(max_examples=500)
@given(
    family=name_words(),
    given_name=name_words(),
    changes=st.lists(st.sampled_from(sorted(_FORMAT_CHANGES)), max_size=4),
    layout=st.sampled_from(_LAYOUTS),
    birth_date=dates,
    sex=sexes,
)
def test_formatting_only_changes_never_yield_mismatch(
    family: str, given_name: str, changes: list[str], layout: str, birth_date: str, sex: str
) -> None:
    """Case, accents, separators, order swap, one field vs two, wildcards: at worst FD."""
    changed_family, changed_given = family, given_name
    for change in changes:
        changed_family = _FORMAT_CHANGES[change](changed_family)
        changed_given = _FORMAT_CHANGES[change](changed_given)
    found_name = layout.format(f=changed_family, g=changed_given)
    order = {"name": f"{family}^{given_name}", "birth_date": birth_date, "sex": sex}
    media = {"name": found_name, "birth_date": birth_date, "sex": sex.lower()}
    report = compare_patients(order, media)
    assert report.fields["name"] in {"match", "format_different"}, (found_name, report.reasons)
    assert report.overall in {"match", "format_different"}
    assert compare_patients(media, order).overall == report.overall
