import { describe, expect, it } from "vitest";
import { canOpen, importOutcome, isFinished, isTerminal, outcomeTone, statusPresentation, studyOutcome, studyState } from "./status";

describe("status badges (seed colours, always with words)", () => {
  it.each([
    ["created", "muted", "muted", "created"],
    ["queued", "warning", "warning", "queued"],
    ["analyzing", "primary", "primary", "analyzing"],
    ["awaiting_confirmation", "primary", "primary", "awaiting_confirmation"],
    ["processing", "primary", "primary", "processing"],
    ["processing", "success", "success", "processingOk"],
    ["processing", "danger", "danger", "failed"],
    ["completed", "success", "success", "completed"],
    ["failed", "danger", "danger", "failed"],
    ["cancelled", "muted", "muted", "cancelled"],
    ["expired", "muted", "muted", "expired"],
  ])("%s with badge %s → %s %s", (status, badge, tone, label) => {
    const p = statusPresentation(status, badge);
    expect(p.tone).toBe(tone);
    expect(p.label).toBe(label);
    expect(p.icon).not.toBe("");
  });

  it("derives the colour from the status when the server sends none or an unknown one", () => {
    expect(statusPresentation("queued").tone).toBe("warning");
    expect(statusPresentation("failed", "purple").tone).toBe("danger");
    expect(statusPresentation("brand-new")).toMatchObject({ tone: "muted", label: "unknown" });
  });

  it("gives every tone its own icon, so colour is never the only signal", () => {
    const icons = ["muted", "warning", "primary", "success", "danger"].map(
      (b) => statusPresentation("processing", b).icon,
    );
    expect(new Set(icons).size).toBe(5);
  });

  it("offers Open once processing has started", () => {
    expect(canOpen("created")).toBe(false);
    expect(canOpen("queued")).toBe(true);
    expect(canOpen("completed")).toBe(true);
  });
});

describe("each study's own outcome (monitoring)", () => {
  const s = (outcome: string, extra: { on_pacs?: boolean; pacs_conflict?: boolean; selected?: boolean } = {}) => ({
    outcome,
    on_pacs: extra.on_pacs ?? false,
    pacs_conflict: extra.pacs_conflict ?? false,
    selected: extra.selected ?? outcome !== "not_selected",
  });

  it.each([
    ["done", "done", "success"],
    ["failed", "failed", "danger"],
    ["processing", "processing", "primary"],
    ["waiting", "waiting", "warning"],
    ["already_present", "already_present", "muted"],
    ["not_selected", "not_selected", "muted"],
    ["something-new", "waiting", "warning"],
  ])("%s → %s (%s)", (given, outcome, tone) => {
    expect(studyOutcome(s(given))).toBe(outcome);
    expect(outcomeTone(studyOutcome(s(given)))).toBe(tone);
  });

  it("a study on the PACS that was not sent with the confirmation is still 'already present'", () => {
    expect(studyOutcome(s("not_selected", { on_pacs: true }))).toBe("already_present");
    expect(studyOutcome(s("not_selected", { on_pacs: true, pacs_conflict: true }))).toBe("not_selected");
  });

  it("completed with every selected study already on the PACS: nothing was sent", () => {
    expect(importOutcome({ status: "completed", studies: [s("already_present"), s("already_present")] })).toEqual({
      outcome: "nothingSent",
      done: 2,
      total: 2,
    });
    expect(importOutcome({ status: "completed", studies: [s("already_present"), s("done")] }).outcome).toBe("completed");
    expect(importOutcome({ status: "completed", studies: [s("done"), s("not_selected")] })).toEqual({
      outcome: "completed",
      done: 1,
      total: 1,
    });
  });

  it("failed with some studies filed: says how many are in the PACS", () => {
    expect(importOutcome({ status: "failed", studies: [s("done"), s("failed"), s("already_present")] })).toEqual({
      outcome: "partlyFailed",
      done: 2,
      total: 3,
    });
    expect(importOutcome({ status: "failed", studies: [s("failed")] }).outcome).toBe("failed");
    // failed before any study was confirmed (analysis): no study counts
    expect(importOutcome({ status: "failed", studies: [s("not_selected")] }).outcome).toBe("failed");
  });

  it.each([
    ["processing", "processing"],
    ["cancelled", "cancelled"],
    ["expired", "expired"],
    ["awaiting_confirmation", "waiting"],
    ["queued", "waiting"],
  ])("status %s → %s", (status, outcome) => {
    expect(importOutcome({ status, studies: [] }).outcome).toBe(outcome);
  });
});

describe("the statuses an import ends in", () => {
  it.each([
    ["created", false],
    ["queued", false],
    ["analyzing", false],
    ["awaiting_confirmation", false],
    ["processing", false],
    ["completed", true],
    ["failed", true],
    ["cancelled", true],
    ["expired", true],
    ["purged", true],
  ])("%s → terminal %s", (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });

  it("a purged import is terminal: its page stops following the event stream instead of reconnecting", () => {
    expect(isTerminal("purged")).toBe(true);
    expect(statusPresentation("purged", "muted")).toMatchObject({ tone: "muted", label: "purged" });
    expect(importOutcome({ status: "purged", studies: [] }).outcome).toBe("purged");
  });

  it("an unknown or missing status is not terminal (the page keeps following it)", () => {
    expect(isTerminal(undefined)).toBe(false);
    expect(isTerminal("brand-new")).toBe(false);
    expect(isTerminal("toString")).toBe(false);
  });
});

describe("isFinished", () => {
  it("is a terminal import nobody needs to act on; a failed one stays in view", () => {
    for (const status of ["completed", "cancelled", "expired", "purged"]) expect(isFinished(status)).toBe(true);
    for (const status of ["failed", "created", "queued", "analyzing", "awaiting_confirmation", "processing"]) {
      expect(isFinished(status)).toBe(false);
    }
    expect(isFinished(undefined)).toBe(false);
    expect(isFinished("something_new")).toBe(false);
  });
});

describe("each study's state in words (monitoring)", () => {
  type Stage = { name: "verify" | "store" | "commit" | "merge" | "notify" | "finish"; status: "pending" | "running" | "done" | "skipped" | "failed"; code?: string | null; params?: Record<string, string | number> };
  const study = (outcome: string, stages: Stage[] = [], extra: { on_pacs?: boolean; pacs_conflict?: boolean } = {}) => ({
    outcome,
    on_pacs: extra.on_pacs ?? false,
    pacs_conflict: extra.pacs_conflict ?? false,
    stages,
  });
  const pacs = { zone: "pacs" };

  it("a study filed says Imported; in the temporary zone, Kept (never 'imported' where there is no order)", () => {
    expect(studyState(study("done"), pacs)).toMatchObject({ label: "done", tone: "success", stage: null, reason: null });
    expect(studyState(study("done"), { zone: "temporary" })).toMatchObject({ label: "kept", tone: "success" });
    // once the import is purged, its copy is gone: the study no longer says it is kept
    expect(studyState(study("done"), { zone: "temporary", status: "purged" })).toMatchObject({ label: "purged", tone: "muted" });
    expect(studyState(study("done"), { ...pacs, status: "purged" })).toMatchObject({ label: "done" });
  });

  it("in progress: at the step running, else the next one to do", () => {
    const stages: Stage[] = [
      { name: "verify", status: "done" },
      { name: "store", status: "running" },
      { name: "finish", status: "pending" },
    ];
    expect(studyState(study("processing", stages), pacs)).toMatchObject({ label: "processing", tone: "primary", stage: "store" });
    expect(studyState(study("processing", [{ name: "verify", status: "done" }, { name: "store", status: "pending" }]), pacs).stage).toBe("store");
    expect(studyState(study("waiting"), pacs)).toMatchObject({ label: "waiting", stage: null });
  });

  it("failed: the failing step and its own note, the reason in words", () => {
    const stages: Stage[] = [
      { name: "verify", status: "done", code: "instances_verified", params: { count: 4 } },
      { name: "store", status: "failed", code: "store_failed", params: { count: 2 } },
      { name: "finish", status: "pending" },
    ];
    const error = { code: "import_failed", params: {} };
    expect(studyState(study("failed", stages), { zone: "pacs", error })).toEqual({
      outcome: "failed",
      label: "failed",
      tone: "danger",
      icon: "✕",
      stage: "store",
      reason: { code: "store_failed", params: { count: 2 } },
    });
  });

  it("failed without a note of its step: the import's error; without either, only the step", () => {
    const stages: Stage[] = [{ name: "store", status: "failed", code: null }];
    expect(studyState(study("failed", stages), { zone: "pacs", error: { code: "pacs_unreachable", params: {} } }).reason).toEqual({
      code: "pacs_unreachable",
      params: {},
    });
    expect(studyState(study("failed", stages), { zone: "pacs", error: null })).toMatchObject({ stage: "store", reason: null });
    expect(studyState(study("failed"), { zone: "pacs" })).toMatchObject({ stage: null, reason: null });
  });

  it("already on the PACS and not selected are said as such, with no step nor reason", () => {
    expect(studyState(study("already_present"), pacs)).toMatchObject({ label: "already_present", stage: null, reason: null });
    expect(studyState(study("not_selected", [], { on_pacs: true }), pacs).label).toBe("already_present");
    expect(studyState(study("not_selected"), pacs)).toMatchObject({ label: "not_selected", tone: "muted" });
  });

  it("every label has its own icon next to its words", () => {
    const labels = ["done", "failed", "processing", "waiting", "not_selected"].map((o) => studyState(study(o), pacs).icon);
    expect(new Set(labels).size).toBe(5);
  });
});
