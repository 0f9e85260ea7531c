"""Storage commitment requests and reports (pure)."""

from __future__ import annotations

import threading

from pydicom import Dataset
from pydicom.uid import generate_uid

from importer.pacs import FAILURE_NOT_REPORTED
from importer.pacs.base import FAILURE_NO_SUCH_INSTANCE
from importer.pacs.commitment import (
    ReportInbox,
    build_request,
    combine,
    new_transactions,
    parse_report,
)

CT = "1.2.840.10008.5.1.4.1.1.2"


def _report(transaction: str, committed: list[str], failed: dict[str, int]) -> Dataset:
    info = Dataset()
    info.TransactionUID = transaction
    if committed:
        items = []
        for uid in committed:
            item = Dataset()
            item.ReferencedSOPClassUID = CT
            item.ReferencedSOPInstanceUID = uid
            items.append(item)
        info.ReferencedSOPSequence = items
    if failed:
        failures = []
        for uid, reason in failed.items():
            item = Dataset()
            item.ReferencedSOPClassUID = CT
            item.ReferencedSOPInstanceUID = uid
            item.FailureReason = reason
            failures.append(item)
        info.FailedSOPSequence = failures
    return info


def test_build_request() -> None:
    info = build_request("1.2.3", [(CT, "1.1"), (CT, "1.2")])
    assert info.TransactionUID == "1.2.3"
    assert [
        (i.ReferencedSOPClassUID, i.ReferencedSOPInstanceUID) for i in info.ReferencedSOPSequence
    ] == [
        (CT, "1.1"),
        (CT, "1.2"),
    ]


def test_new_transactions_dedupe_and_split() -> None:
    refs = [(CT, f"1.{i}") for i in range(7)] + [(CT, "1.0"), ("", "1.9"), (CT, "")]
    transactions = new_transactions(refs, per_request=3)
    assert [len(batch) for batch in transactions.values()] == [3, 3, 1]
    assert len(set(transactions)) == 3
    assert new_transactions([]) == {}


def test_parse_and_combine_reports() -> None:
    transactions = new_transactions([(CT, "1.1"), (CT, "1.2"), (CT, "1.3"), (CT, "1.4")], 2)
    first, second = transactions
    reports = [
        parse_report(_report(first, ["1.1", "1.2"], {})),
        parse_report(_report(second, ["1.3", "9.9"], {"1.4": FAILURE_NO_SUCH_INSTANCE})),
    ]
    assert reports[1].failed == {"1.4": FAILURE_NO_SUCH_INSTANCE}

    result = combine(transactions, reports)

    assert result.committed == {"1.1", "1.2", "1.3"}  # 9.9 was not asked for
    assert result.failed == {"1.4": FAILURE_NO_SUCH_INSTANCE}
    assert not result.complete
    assert result.transaction_uids == (first, second)


def test_an_instance_no_report_mentions_failed() -> None:
    transactions = new_transactions([(CT, "1.1"), (CT, "1.2")])
    [transaction] = transactions
    result = combine(transactions, [parse_report(_report(transaction, ["1.1"], {}))])
    assert result.committed == {"1.1"}
    assert result.failed == {"1.2": FAILURE_NOT_REPORTED}


def test_inbox_matches_reports_to_their_waiter() -> None:
    inbox = ReportInbox()
    one, two = generate_uid(), generate_uid()
    waiter = inbox.expect([one, two])
    assert not inbox.deliver(_report(generate_uid(), ["1.1"], {}))  # nobody waits for it
    assert inbox.deliver(_report(one, ["1.1"], {}))
    assert not waiter.done.is_set()
    delivered = threading.Thread(target=inbox.deliver, args=(_report(two, ["1.2"], {}),))
    delivered.start()
    assert waiter.done.wait(5)
    delivered.join()
    assert {r.transaction_uid for r in waiter.reports} == {one, two}
    inbox.forget(waiter)
    assert not inbox.deliver(_report(one, ["1.1"], {}))
