/**
 * The medium's documents at confirmation: which studies can take them, the tick and the study of
 * each, the rule of a ticked document whose study is no longer sent, and what Confirm sends.
 */
import { describe, expect, it } from "vitest";
import { chooseStudy, documentsByStudy, documentsToFile, documentTargets, strandedDocuments, tickDocument, type DocumentChoices } from "./documents";
import { confirmBody, emphasis, withDocumentStudies } from "./identity";

const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };

function study(uid: string, extra: { on_pacs?: boolean; pacs_conflict?: boolean; ack?: boolean } = {}) {
  return {
    study_instance_uid: uid,
    identity: { overall: "match", fields: {}, reasons: [] },
    compared_with: ROSSI,
    on_pacs: extra.on_pacs ?? false,
    pacs_conflict: extra.pacs_conflict ?? false,
    acknowledgement_required: extra.ack ?? false,
  };
}

const CT = study("1.1");
const MR = study("1.2");
const ON_PACS = study("1.3", { on_pacs: true });
const CONFLICT = study("1.4", { on_pacs: true, pacs_conflict: true });
const STUDIES = [CT, MR, ON_PACS, CONFLICT];

describe("the studies a document can be filed with", () => {
  it("the studies ticked, in the medium's order, then those on the PACS already; never one in conflict", () => {
    expect(documentTargets(STUDIES, ["1.2", "1.1"], true).map((s) => s.study_instance_uid)).toEqual(["1.1", "1.2", "1.3"]);
    expect(documentTargets(STUDIES, ["1.2"], true).map((s) => s.study_instance_uid)).toEqual(["1.2", "1.3"]);
    expect(documentTargets(STUDIES, ["1.3", "1.4"], true).map((s) => s.study_instance_uid)).toEqual(["1.3"]);
  });

  it("worklist mode: the studies ticked only", () => {
    expect(documentTargets(STUDIES, ["1.1", "1.2"], false).map((s) => s.study_instance_uid)).toEqual(["1.1", "1.2"]);
    expect(documentTargets(STUDIES, [], false)).toEqual([]);
  });
});

describe("ticking a document", () => {
  const targets = [CT, MR];

  it("nothing is ticked at first: nothing is filed", () => {
    expect(documentsToFile({}, targets)).toEqual({});
    expect(strandedDocuments({}, targets)).toEqual([]);
  });

  it("ticked, it goes with the first study sent", () => {
    const choices = tickDocument({}, "d1", true, targets);
    expect(choices).toEqual({ d1: { on: true, study: "1.1" } });
    expect(documentsToFile(choices, targets)).toEqual({ d1: "1.1" });
  });

  it("another study chosen; unticked and ticked again, it keeps it", () => {
    let choices = chooseStudy(tickDocument({}, "d1", true, targets), "d1", "1.2");
    expect(documentsToFile(choices, targets)).toEqual({ d1: "1.2" });
    choices = tickDocument(choices, "d1", false, targets);
    expect(documentsToFile(choices, targets)).toEqual({});
    choices = tickDocument(choices, "d1", true, targets);
    expect(documentsToFile(choices, targets)).toEqual({ d1: "1.2" });
  });

  it("ticked again after its study was untaken, it goes with the first study sent", () => {
    const choices = tickDocument({ d1: { on: false, study: "1.2" } }, "d1", true, [CT]);
    expect(choices.d1).toEqual({ on: true, study: "1.1" });
  });

  it("no study sent: it cannot go with one", () => {
    const choices = tickDocument({}, "d1", true, []);
    expect(choices.d1).toEqual({ on: true, study: null });
    expect(strandedDocuments(choices, [])).toEqual(["d1"]);
  });

  it("each document with its own study", () => {
    let choices: DocumentChoices = tickDocument({}, "pdf", true, targets);
    choices = chooseStudy(tickDocument(choices, "jpg", true, targets), "jpg", "1.2");
    expect(documentsToFile(choices, targets)).toEqual({ pdf: "1.1", jpg: "1.2" });
  });
});

describe("a ticked document whose study is no longer sent", () => {
  const choices: DocumentChoices = { pdf: { on: true, study: "1.2" }, jpg: { on: true, study: "1.1" }, png: { on: false, study: "1.2" } };

  it("is neither moved nor left out behind the user's back: it waits, named, and is never sent", () => {
    const now = [CT]; // the MR untaken
    expect(strandedDocuments(choices, now)).toEqual(["pdf"]);
    expect(documentsToFile(choices, now)).toEqual({ jpg: "1.1" });
    // its choice is kept: the study ticked again puts it right
    expect(strandedDocuments(choices, [CT, MR])).toEqual([]);
    expect(documentsToFile(choices, [CT, MR])).toEqual({ pdf: "1.2", jpg: "1.1" });
  });

  it("is put right by choosing another study, or by unticking it", () => {
    expect(strandedDocuments(chooseStudy(choices, "pdf", "1.1"), [CT])).toEqual([]);
    expect(strandedDocuments(tickDocument(choices, "pdf", false, [CT]), [CT])).toEqual([]);
  });
});

describe("what Confirm sends for the documents", () => {
  it("the documents with their studies; nothing when none is ticked (the body as before)", () => {
    const body = confirmBody([CT, MR], ["1.1", "1.2"], false, { d1: "1.2" });
    expect(body.studies).toEqual(["1.1", "1.2"]);
    expect(body.documents).toEqual({ d1: "1.2" });
    expect(confirmBody([CT, MR], ["1.1"], false)).not.toHaveProperty("documents");
    expect(confirmBody([CT, MR], ["1.1"], false, {})).not.toHaveProperty("documents");
  });

  it("a study on the PACS already is sent for its documents, with the comparison shown", () => {
    const body = confirmBody([CT, ON_PACS], ["1.1"], false, { d1: "1.3" });
    expect(body.studies).toEqual(["1.1", "1.3"]);
    expect(body.seen_patients).toEqual({ "1.1": ROSSI, "1.3": ROSSI });
    expect(Object.keys(body.seen_filed_before)).toEqual(["1.1", "1.3"]);
    // not twice when every study is on the PACS already (all of them are sent then)
    expect(confirmBody([ON_PACS], [], false, { d1: "1.3" }).studies).toEqual(["1.3"]);
  });

  it("only a study on the PACS already is added, never one in conflict nor one untaken", () => {
    expect(withDocumentStudies(STUDIES, ["1.1"], { a: "1.3", b: "1.4", c: "1.2" })).toEqual(["1.1", "1.3"]);
  });

  it("a study on the PACS given a document alone can be confirmed, and counts for the identity gate", () => {
    expect(emphasis([CT, ON_PACS], [], false).canConfirm).toBe(false);
    expect(emphasis([CT, ON_PACS], [], false, { d1: "1.3" }).canConfirm).toBe(true);
    const doubtful = study("1.3", { on_pacs: true, ack: true });
    expect(emphasis([CT, doubtful], ["1.1"], false).danger).toBe(false);
    expect(emphasis([CT, doubtful], ["1.1"], false, { d1: "1.3" })).toEqual({ danger: true, acknowledgeRequired: true, canConfirm: false });
    expect(emphasis([CT, doubtful], ["1.1"], true, { d1: "1.3" }).canConfirm).toBe(true);
  });
});

describe("the documents of a study, at the monitoring", () => {
  it("those filed with it, and those filed with none", () => {
    const docs = [
      { id: "a", study_instance_uid: "1.1" },
      { id: "b", study_instance_uid: null },
      { id: "c", study_instance_uid: "1.1" },
    ];
    expect(documentsByStudy(docs, "1.1").map((d) => d.id)).toEqual(["a", "c"]);
    expect(documentsByStudy(docs, null).map((d) => d.id)).toEqual(["b"]);
  });
});
