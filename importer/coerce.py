"""IHE IRWF.b Importer attribute coercion (pure, in memory).

:func:`coerce_dataset` returns a new dataset that carries the local patient and order (Patient's
Name, Patient ID, Issuer, Birth Date, Sex, Accession Number, Request Attributes Sequence) while
keeping the values it replaced in the Original Attributes Sequence (PS3.3 C.12.1.1.9) and the
media's Patient ID in the Other Patient IDs Sequence. The caller's dataset and the file it came
from are never modified; UIDs, file meta and pixel data (never decoded) are kept as they are.

Identifiers (Patient ID, Issuer, Accession Number, Requested Procedure ID, coding scheme) that do
not fit their VR are refused rather than truncated: a truncated identifier can name another
patient or order. Names and descriptions are truncated to their VR's maximum length.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Final

from pydicom.charset import python_encoding
from pydicom.datadict import dictionary_has_tag, dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag

from importer.errors import InvalidInput
from importer.identity.gate import Person

if TYPE_CHECKING:
    from importer.access.models import Order

__all__ = [
    "COERCION_TAGS",
    "TEXT_VRS",
    "UTF8",
    "CoercionTarget",
    "charset_terms",
    "coerce_dataset",
    "coerce_in_place",
    "coerce_stamp",
    "element_vr",
    "implicit_vr",
    "representable",
    "target_of",
    "text_values",
]

#: The Specific Character Set written when the current one cannot hold the new values.
UTF8 = "ISO_IR 192"

REASON_COERCE = "COERCE"

TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "PN", "UC", "UT"})
"""Value representations whose values are encoded with the Specific Character Set (PS3.5
6.1.2.3)."""
_LO_MAX = 64
_SH_MAX = 16
_PN_GROUP_MAX = 64
_SEX_VALUES = frozenset({"M", "F", "O", ""})
_DA = re.compile(r"^\d{8}$")
_SPECIFIC_CHARACTER_SET = Tag(0x0008, 0x0005)


@dataclass(frozen=True, slots=True)
class CoercionTarget:
    """The local identity and order an imported instance is filed under."""

    patient_name: str  # DICOM PN, from the order
    patient_id: str
    issuer_of_patient_id: str  # may be ""
    birth_date: str  # YYYYMMDD or ""
    sex: str  # M/F/O or ""
    accession_number: str
    requested_procedure_id: str = ""
    procedure_code: str = ""  # code value
    procedure_code_scheme: str = "LOCAL"
    procedure_description: str = ""
    scheduled_procedure_step_id: str = ""

    @property
    def ordered(self) -> bool:
        """Filed under an order (anything that names one); not: for a patient alone, whose
        images carry no accession nor request."""
        return bool(
            self.accession_number or self.requested_procedure_id or self.scheduled_procedure_step_id
        )

    @property
    def person(self) -> Person:
        """The local patient it names."""
        return Person(
            name=self.patient_name,
            id=self.patient_id,
            issuer=self.issuer_of_patient_id,
            birth_date=self.birth_date,
            sex=self.sex,
        )


def target_of(order: Order) -> CoercionTarget:
    """The local patient and order of ``order``, as coercion writes them."""
    return CoercionTarget(
        patient_name=order.patient_name,
        patient_id=order.patient_id,
        issuer_of_patient_id=order.patient_issuer,
        birth_date=order.patient_birth_date,
        sex=order.patient_sex,
        # a patient launched without an order: its key is ours, never written into an image
        accession_number=order.accession_number if order.kind != "patient" else "",
        requested_procedure_id=order.requested_procedure_id,
        procedure_code=order.procedure_code,
        procedure_code_scheme=order.procedure_code_scheme or "LOCAL",
        procedure_description=order.procedure_description,
        scheduled_procedure_step_id=order.scheduled_procedure_step_id,
    )


# --------------------------------------------------------------------------- value hygiene


def _printable(value: str) -> str:
    """Drop backslashes (the VM separator) and control characters from a text value."""
    value = unicodedata.normalize("NFC", value)
    return "".join(ch for ch in value if ch != "\\" and unicodedata.category(ch)[0] != "C")


def _truncate(value: str, limit: int) -> str:
    """A descriptive value, cleaned and cut to `limit` characters."""
    return _printable(value).strip()[:limit].rstrip()


def _identifier(value: str, limit: int, what: str) -> str:
    """An identifier: cleaned, never truncated (refused when too long)."""
    cleaned = value.strip()
    if _printable(cleaned) != cleaned:
        raise InvalidInput(f"{what} holds characters DICOM does not allow", code="invalid_target")
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters", code="invalid_target")
    return cleaned


def _person_name(value: str) -> str:
    """A PN value: at most 3 groups of 5 components, 64 characters per group."""
    groups: list[str] = []
    for group in _printable(value).split("=")[:3]:
        components = [" ".join(c.split()) for c in group.split("^")]
        if len(components) > 5:
            components = [*components[:4], " ".join(c for c in components[4:] if c)]
        text = "^".join(components).rstrip("^")
        groups.append(text[:_PN_GROUP_MAX].rstrip("^ "))
    return "=".join(groups).rstrip("=")


def _birth_date(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if _DA.match(value) is None:
        raise InvalidInput("birth date is not YYYYMMDD", code="invalid_target")
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise InvalidInput("birth date is not a valid date", code="invalid_target") from None
    return value


def _sex(value: str) -> str:
    value = value.strip().upper()
    if value not in _SEX_VALUES:
        raise InvalidInput("sex is not M, F or O", code="invalid_target")
    return value


def coerce_stamp(now: datetime) -> str:
    """DICOM DT: YYYYMMDDHHMMSS.FFFFFF, with &ZZXX when `now` is timezone-aware."""
    text = now.strftime("%Y%m%d%H%M%S.%f")
    if now.utcoffset() is not None:
        text += now.strftime("%z")
    return text


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------- character sets


def charset_terms(ds: Dataset) -> list[str]:
    """The terms of ``ds``'s Specific Character Set (none: the default repertoire)."""
    elem = ds.get(_SPECIFIC_CHARACTER_SET)
    if elem is None or elem.value is None:
        return []
    values = [elem.value] if isinstance(elem.value, str) else list(elem.value)
    return [str(v).strip() for v in values]


def _char_encodable(ch: str, terms: Sequence[str]) -> bool:
    if ch.isascii():
        return True
    for term in terms:
        codec = python_encoding.get(term)
        if codec is None or codec == "iso8859":
            continue
        if codec == "shift_jis":  # JIS X 0201: half-width katakana only
            if "\uff61" <= ch <= "\uff9f":
                return True
            continue
        try:
            ch.encode("gb2312" if codec == "iso_ir_58" else codec)
        except (UnicodeError, LookupError):
            continue
        return True
    return False


def representable(value: str, terms: Sequence[str]) -> bool:
    """Whether `value` can be written exactly in the character set `terms`."""
    if terms and terms[0] == UTF8:
        return True
    if any(term and python_encoding.get(term) is None for term in terms):
        return False  # unknown or misspelt: write UTF-8, which every value fits
    return all(_char_encodable(ch, terms) for ch in value)


def implicit_vr(tag: int) -> str | None:
    """The VR pydicom gives an element read in implicit VR: its dictionary's (None for a
    private or unknown attribute)."""
    if Tag(tag).is_private or not dictionary_has_tag(tag):
        return None
    return str(dictionary_VR(tag))


def element_vr(ds: Dataset, tag: BaseTag) -> str | None:
    """The VR of ``ds``'s element ``tag`` without converting it: as written in explicit VR,
    else :func:`implicit_vr`."""
    elem = ds.get_item(tag)
    if isinstance(elem, RawDataElement):
        return str(elem.VR) if elem.VR is not None else implicit_vr(tag)
    return str(elem.VR) if elem is not None else None


def _decode_text(ds: Dataset) -> None:
    """Turn every text element (nested too) into decoded values, leaving binary data raw.

    Needed before the Specific Character Set changes: raw bytes in the old charset must not be
    written under the new one. Pixel data and other bulk elements are not touched.
    """
    for tag in list(ds.keys()):
        vr = element_vr(ds, tag)
        if vr in TEXT_VRS:
            _ = ds[tag]  # converts the raw element with the dataset's charset
        elif vr == "SQ":
            for item in ds[tag].value:
                _decode_text(item)


def text_values(ds: Dataset) -> Iterator[str]:
    """Decoded text values governed by `ds`'s character set (items with their own excluded)."""
    for tag in list(ds.keys()):
        vr = element_vr(ds, tag)
        if vr == "SQ":
            for item in ds[tag].value or []:
                if _SPECIFIC_CHARACTER_SET not in item:
                    yield from text_values(item)
        elif vr in TEXT_VRS:
            value = ds[tag].value
            if value is not None:
                yield from (str(v) for v in (value if isinstance(value, MultiValue) else [value]))


# --------------------------------------------------------------------------- coercion


def _tag(keyword: str) -> BaseTag:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return Tag(tag)


COERCION_KEYWORDS: Final = (
    "SpecificCharacterSet",
    "InstanceCoercionDateTime",
    "AccessionNumber",
    "IssuerOfAccessionNumberSequence",
    "InstitutionName",
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
    "StudyInstanceUID",
    "RequestAttributesSequence",
    "OriginalAttributesSequence",
)
COERCION_TAGS: Final = frozenset(int(_tag(keyword)) for keyword in COERCION_KEYWORDS)
"""Every top-level attribute :func:`_coerce` reads or writes. Beyond them it only decodes the
other text values to check that the character set still holds them all
(:func:`representable`): coercing a data set of these attributes alone gives the same values
for them (``importer.pipeline.prepare`` splices such a result into the file's other elements;
a test keeps this list and the coercion's code in step)."""


class _Changes:
    """Sets values on `ds` and remembers the previous value of each changed attribute."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.previous: dict[BaseTag, DataElement] = {}

    def _remember(self, tag: BaseTag, vr: str) -> None:
        if tag in self.previous:
            return
        old = self.ds.get(tag)
        if old is None:
            empty: object = DicomSequence() if vr == "SQ" else None
            self.previous[tag] = DataElement(tag, vr, empty)
        else:
            self.previous[tag] = copy.deepcopy(old)

    def set_text(self, keyword: str, value: str, *, record_absent: bool = True) -> None:
        """Set a text attribute; an attribute that was absent is recorded as empty."""
        tag = _tag(keyword)
        vr = dictionary_VR(tag)
        old = self.ds.get(tag)
        if old is not None and _text(old.value) == value:
            return
        if old is None and (value == "" or not record_absent):
            self.ds[tag] = DataElement(tag, vr, value)  # e.g. Type 2: present, empty
            return
        self._remember(tag, vr)
        self.ds[tag] = DataElement(tag, vr, value)

    def set_sequence(self, keyword: str, items: list[Dataset]) -> None:
        tag = _tag(keyword)
        old = self.ds.get(tag)
        if old is not None and list(old.value or []) == items:
            return
        self._remember(tag, "SQ")
        self.ds[tag] = DataElement(tag, "SQ", DicomSequence(items))

    def remove(self, keyword: str) -> None:
        tag = _tag(keyword)
        old = self.ds.get(tag)
        if old is None:
            return
        if not old.is_empty:
            self._remember(tag, old.VR)
        del self.ds[tag]


def _other_patient_ids(
    ds: Dataset, old_id: str, old_issuer: str, target_id: str, target_issuer: str
) -> list[Dataset] | None:
    """The Other Patient IDs Sequence with the media's ID added, or None if nothing to add."""
    if not old_id or (old_id, old_issuer) == (target_id, target_issuer):
        return None
    items = [copy.deepcopy(item) for item in ds.get("OtherPatientIDsSequence", None) or []]
    for item in items:
        if (_text(item.get("PatientID")), _text(item.get("IssuerOfPatientID"))) == (
            old_id,
            old_issuer,
        ):
            return None
    entry = Dataset()
    entry.PatientID = old_id
    if old_issuer:
        entry.IssuerOfPatientID = old_issuer
    entry.TypeOfPatientID = "TEXT"
    items.append(entry)
    return items


def _request_attributes(ds: Dataset, target: CoercionTarget) -> list[Dataset]:
    """One Request Attributes Sequence item (PS3.3 Table 10-9) for the order."""
    item = Dataset()
    item.AccessionNumber = _identifier(target.accession_number, _SH_MAX, "accession number")
    procedure_id = _identifier(target.requested_procedure_id, _SH_MAX, "requested procedure id")
    if procedure_id:
        item.RequestedProcedureID = procedure_id
    step_id = _identifier(
        target.scheduled_procedure_step_id, _SH_MAX, "scheduled procedure step id"
    )
    if step_id:
        item.ScheduledProcedureStepID = step_id
    study_uid = ds.get("StudyInstanceUID")
    if study_uid:
        item.StudyInstanceUID = study_uid
    description = _truncate(target.procedure_description, _LO_MAX)
    if description:
        item.RequestedProcedureDescription = description
    code_value = _identifier(target.procedure_code, _LO_MAX, "procedure code")
    if code_value:
        code = Dataset()
        if len(code_value) <= _SH_MAX:
            code.CodeValue = code_value
        else:
            code.LongCodeValue = code_value
        code.CodingSchemeDesignator = _identifier(
            target.procedure_code_scheme or "LOCAL", _SH_MAX, "coding scheme designator"
        )
        code.CodeMeaning = description or code_value
        item.RequestedProcedureCodeSequence = [code]
    return [item]


def validate_target(target: CoercionTarget) -> None:
    """Refuse (``InvalidInput``, code ``invalid_target``) an order that cannot be written into
    DICOM faithfully, before any instance is touched."""
    if not _identifier(target.patient_id, _LO_MAX, "patient id"):
        raise InvalidInput("patient id is empty", code="invalid_target")
    if not _person_name(target.patient_name):
        raise InvalidInput("patient name is empty", code="invalid_target")
    _identifier(target.issuer_of_patient_id, _LO_MAX, "issuer of patient id")
    _birth_date(target.birth_date)
    _sex(target.sex)
    _identifier(target.accession_number, _SH_MAX, "accession number")
    _request_attributes(Dataset(), target)


@functools.lru_cache(maxsize=64)
def _validated(target: CoercionTarget) -> None:
    """:func:`validate_target`, remembered for targets found valid (an import coerces every
    instance of a study to the same target; invalid ones raise, which is never cached)."""
    validate_target(target)


def coerce_dataset(
    ds: Dataset,
    target: CoercionTarget,
    *,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool = True,
) -> Dataset:
    """Return a copy of `ds` filed under `target`, ready to send (IHE IRWF.b Importer).

    The replaced values go into a new Original Attributes Sequence item (reason ``COERCE``);
    earlier items are kept. When nothing changes, the copy is returned without a new item.
    Raises :class:`~importer.errors.InvalidInput` when the target cannot be written faithfully.
    """
    _validated(target)
    return _coerce(
        copy.deepcopy(ds),
        target,
        modifying_system=modifying_system,
        now=now,
        add_other_patient_ids=add_other_patient_ids,
    )


def coerce_in_place(
    ds: Dataset,
    target: CoercionTarget,
    *,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool = True,
) -> Dataset:
    """What :func:`coerce_dataset` returns, made of ``ds`` itself rather than of a copy of it:
    for a dataset just read from a file that nothing else holds (the copy costs a quarter of
    the coercion). ``ds`` is left as the result (partly changed when this raises)."""
    _validated(target)
    return _coerce(
        ds,
        target,
        modifying_system=modifying_system,
        now=now,
        add_other_patient_ids=add_other_patient_ids,
    )


def _coerce(
    out: Dataset,
    target: CoercionTarget,
    *,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
) -> Dataset:
    """The coercion itself, done on ``out`` (a target already validated)."""
    patient_id = _identifier(target.patient_id, _LO_MAX, "patient id")
    name = _person_name(target.patient_name)
    issuer = _identifier(target.issuer_of_patient_id, _LO_MAX, "issuer of patient id")
    birth_date = _birth_date(target.birth_date)
    sex = _sex(target.sex)
    accession = _identifier(target.accession_number, _SH_MAX, "accession number")
    request_attributes = _request_attributes(out, target)

    terms = charset_terms(out)
    _decode_text(out)

    old_id = _text(out.get("PatientID")).strip()
    old_issuer = _text(out.get("IssuerOfPatientID")).strip()
    institution = _truncate(_text(out.get("InstitutionName")), _LO_MAX)

    changes = _Changes(out)
    changes.set_text("PatientName", name)
    changes.set_text("PatientID", patient_id)
    if issuer:
        changes.set_text("IssuerOfPatientID", issuer)
    else:
        changes.remove("IssuerOfPatientID")
    if (old_id, old_issuer) != (patient_id, issuer):
        # Qualifiers describe the media's issuer, not ours.
        changes.remove("IssuerOfPatientIDQualifiersSequence")
    changes.set_text("PatientBirthDate", birth_date)
    changes.set_text("PatientSex", sex)
    if add_other_patient_ids:
        others = _other_patient_ids(out, old_id, old_issuer, patient_id, issuer)
        if others is not None:
            changes.set_sequence("OtherPatientIDsSequence", others)
    if _text(out.get("AccessionNumber")).strip() != accession:
        changes.remove("IssuerOfAccessionNumberSequence")  # the media's issuer
    changes.set_text("AccessionNumber", accession)
    if target.ordered:
        changes.set_sequence("RequestAttributesSequence", request_attributes)
    else:
        # filed for a patient without an order: the medium's request (the outside hospital's)
        # goes, kept in Original Attributes Sequence with the rest
        changes.remove("RequestAttributesSequence")

    if changes.previous:
        stamp = coerce_stamp(now)
        changes.set_text("InstanceCoercionDateTime", stamp, record_absent=False)
        modified = Dataset()
        for elem in changes.previous.values():
            modified.add(elem)
        record = Dataset()
        record.ModifiedAttributesSequence = [modified]
        record.AttributeModificationDateTime = stamp
        record.ModifyingSystem = _truncate(modifying_system, _LO_MAX)
        record.SourceOfPreviousValues = institution
        record.ReasonForTheAttributeModification = REASON_COERCE
        history = list(out.get("OriginalAttributesSequence", None) or [])
        out.OriginalAttributesSequence = [*history, record]

    if not all(representable(value, terms) for value in text_values(out)):
        out.SpecificCharacterSet = UTF8
    return out
