"""Property tests of the identity comparison (hypothesis)."""

from __future__ import annotations

import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from importer.identity import compact, compare_names, compare_patients, fold, parse_person_name

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
