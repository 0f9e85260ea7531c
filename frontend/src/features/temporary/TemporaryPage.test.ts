/**
 * The temporary zone, rendered to HTML (no browser needed): an import a referent undid says which
 * order it was taken back from and why, above its studies, as it waits for the right order. In a
 * session the RIS launched for a patient without an order, each import may be filed under that
 * patient: the offer, the comparison the server made shown before "File under …", the request
 * sent (`patient_launch`, never an accession number), the refusals worded from their codes.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError, api, type ImportOut, type OrderOut, type StudyOut, type TemporaryItem } from "../../api/client";
import { keys, promoteImport } from "../../api/queries";
import { importOf, MATCH, orderOf, PATIENT_KEY, patientLaunchOf, renderScreen, ROSSI, study, temporaryItem, undoOf } from "../../api/testing";
import { PATIENT_COMPARE_BODY, patientLaunchCheck, patientPromoteBody } from "../../domain/checks";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { PatientPromoteForm, PromoteRefusal, TemporaryPage } from "./TemporaryPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The zone's page for a referent (launched with `order`, none by default), its list already read. */
const zone = (items: TemporaryItem[], order: OrderOut | null = null) =>
  renderScreen("/temporary", "/temporary", createElement(TemporaryPage), { roles: ["temporary_zone"], order, data: [[keys.temporary, items]] });

describe("an undone import in the temporary zone", () => {
  it("says the order it was undone from, and why, under its status", () => {
    const out = zone([temporaryItem({ undo: undoOf() })]);
    expect(out).toContain(
      '<p class="undone-from"><span class="badge badge-warning"><span class="badge-icon" aria-hidden="true">↩</span>Undone from order A1: Right patient, wrong order (worklist entry)</span></p>',
    );
    // still promoted or purged as any other
    expect(out).toContain("Promote to an order");
    expect(out).toContain("Purge");
  });

  it("without an order (worklist mode): the reason alone", () => {
    const out = zone([temporaryItem({ undo: undoOf({ accession_number: null, reason: "patient_safety" }) })]);
    expect(out).toContain("Undone: Wrong patient (patient safety)");
  });

  it("an import kept here from the start says nothing of it", () => {
    const out = zone([temporaryItem()]);
    expect(out).not.toContain("undone-from");
    expect(out).not.toContain("Undone");
  });

  it("in French", async () => {
    await i18n.changeLanguage("fr");
    try {
      const out = zone([temporaryItem({ undo: undoOf() })]);
      expect(out).toContain("Retiré de l&#x27;examen A1 : Bon patient, mauvais examen (entrée de worklist incorrecte)");
    } finally {
      await i18n.changeLanguage("en");
    }
  });
});

describe("an import undone from an import for a patient without an order", () => {
  it("says so, never the key of the patient", () => {
    const out = zone([temporaryItem({ undo: undoOf({ accession_number: PATIENT_KEY, reason: "patient_safety" }) })]);
    expect(out).toContain("Undone from an import for the patient without an order: Wrong patient (patient safety)");
    expect(out).not.toContain(PATIENT_KEY);
  });
});

describe("filing under the patient the session was launched for without an order", () => {
  const OFFER = "File under this patient (ROSSI MARIO, HOSP-0042)";

  it("launched for the patient: each completed import offers it, besides the promotion to an order", () => {
    const out = zone([temporaryItem()], patientLaunchOf());
    expect(out).toContain(`<button type="button" class="button button-primary" aria-expanded="false">${OFFER}</button>`);
    expect(out).toContain("Promote to an order");
    expect(out).not.toContain(PATIENT_KEY);
  });

  it.each([
    ["launched without an order", null],
    ["launched for an order", orderOf()],
  ])("%s: nothing changes, no offer", (_, order) => {
    const out = zone([temporaryItem()], order);
    expect(out).toContain("Promote to an order");
    expect(out).not.toContain("File under");
  });

  it("an import not completed yet: no offer", () => {
    expect(zone([temporaryItem({ status: "processing", badge: "primary" })], patientLaunchOf())).not.toContain("File under");
  });

  it.each([
    ["it", "Archivia sotto questo paziente (ROSSI MARIO, HOSP-0042)"],
    ["fr", "Classer sous ce patient (ROSSI MARIO, HOSP-0042)"],
  ])("in %s", async (lng, offer) => {
    expect(await inLanguage(lng, () => zone([temporaryItem()], patientLaunchOf()))).toContain(offer);
  });

  /** The form for the import `imp` as read now. */
  const form = (imp: ImportOut) =>
    renderScreen("/temporary", "/temporary", createElement(PatientPromoteForm, { item: temporaryItem(), patient: ROSSI, onDone: () => undefined, onKeep: () => undefined }), {
      roles: ["temporary_zone"],
      order: patientLaunchOf(),
      data: [[keys.import(imp.id), imp]],
    });
  const kept = (extra: Parameters<typeof study>[0] = {}) =>
    importOf([study({ identity: null, compared_with: null, ...extra })], { zone: "temporary", status: "completed", badge: "success" });

  it("not compared with the patient yet: the server is asked first, nothing to file meanwhile", () => {
    const out = form(kept());
    expect(out).toContain("Import for the patient, without an order: the images are filed under this patient with no accession number.");
    expect(out).toContain('<p role="status">Comparing the patients of this import with ROSSI MARIO…</p>');
    expect(out).not.toContain("File under ROSSI MARIO");
  });

  it("compared: the comparison with the patient (RIS), then File under the patient, large and green", () => {
    const out = form(kept({ identity: { ...MATCH, reasons: [] }, compared_with: ROSSI }));
    expect(out).toContain("Check the patient: ROSSI MARIO (HOSP-0042)");
    expect(out).toContain('<th scope="col">Patient (RIS)</th>');
    expect(out).toContain("PATIENT MATCHES");
    expect(out).toMatch(/<button type="button" class="button button-success button-large"><span aria-hidden="true">✓ <\/span>File under ROSSI MARIO \(HOSP-0042\)<\/button>/);
    expect(out).not.toContain("Comparing the patients");
    expect(out).not.toContain(PATIENT_KEY);
  });

  it("compared, not the same patient: Keep it here first and large, File small, red and waiting for the tick", () => {
    const mismatch: StudyOut["identity"] = { overall: "mismatch", fields: { name: "mismatch", birth_date: "match", sex: "mismatch" }, reasons: ["GIVEN_NAME_DIFFERS"] };
    const out = form(kept({ patient: { ...ROSSI, name: "ROSSI^MARIA", sex: "F" }, identity: mismatch, compared_with: ROSSI, acknowledgement_required: true }));
    expect(out).toContain("PATIENT DOES NOT MATCH");
    expect(out).toContain("Warning: a selected study&#x27;s patient is not this patient.");
    const keep = out.indexOf("Keep it in the temporary zone");
    const file = out.indexOf("File under ROSSI MARIO (HOSP-0042)");
    expect(keep).toBeGreaterThan(-1);
    expect(file).toBeGreaterThan(keep);
    expect(out).toMatch(/<button type="button" class="button button-danger button-small" disabled="">/);
  });

  it("compared with another patient before (a worklist order's): asked again, not filed", () => {
    const out = form(kept({ identity: { ...MATCH, reasons: [] }, compared_with: { ...ROSSI, id: "HOSP-0777" } }));
    expect(out).toContain("Comparing the patients of this import with ROSSI MARIO…");
    expect(out).not.toContain("File under ROSSI MARIO");
  });
});

describe("the promotion to the patient, as sent", () => {
  const accepted = { data: { id: "imp1", status: "processing" }, response: new Response(null, { status: 202 }) };

  it("the comparison asked first: the patient launch alone", async () => {
    const post = vi.spyOn(api, "POST").mockResolvedValue(accepted as never);
    await promoteImport("imp1", PATIENT_COMPARE_BODY);
    expect(post).toHaveBeenCalledWith("/api/v1/imports/{import_id}/promote", {
      params: { path: { import_id: "imp1" } },
      body: { patient_launch: true, acknowledge_identity: false },
    });
  });

  it("File under: the patient launch, the patient as compared and what was filed before; no accession number", async () => {
    const post = vi.spyOn(api, "POST").mockResolvedValue(accepted as never);
    const check = patientLaunchCheck([study({ compared_with: ROSSI })], ROSSI)!;
    await expect(promoteImport("imp1", patientPromoteBody(check, false))).resolves.toEqual({ id: "imp1", status: "processing" });
    const body = (post.mock.calls[0] as unknown as [string, { body: Record<string, unknown> }])[1].body;
    expect(body).toEqual({ patient_launch: true, acknowledge_identity: false, seen_patient: ROSSI, seen_filed_before: [] });
    expect(body).not.toHaveProperty("accession_number");
  });

  it("a refusal is the API's error, with its code", async () => {
    const error = { error: { code: "identity_not_compared", params: { count: 1 }, message: "English." } };
    vi.spyOn(api, "POST").mockResolvedValue({ error, response: new Response(null, { status: 409 }) } as never);
    await expect(promoteImport("imp1", PATIENT_COMPARE_BODY)).rejects.toMatchObject({ status: 409, code: "identity_not_compared" });
  });
});

describe("the promotion's refusals, worded from their codes", () => {
  const refusal = (code: string, params: Record<string, string | number> = {}) =>
    renderScreen("/", "/", createElement(PromoteRefusal, { error: new ApiError(409, code, "English, never shown.", params) }));

  it.each([
    ["order_not_found", {}, "This window was not opened by the RIS for a patient without an order: open the import again from the RIS for this patient."],
    ["not_promotable", {}, "Only an import kept in the temporary zone can be promoted to an order."],
    ["study_conflict", { count: 1 }, "1 selected study is already on the PACS under another patient: it cannot be imported. Ask the PACS administrator."],
    ["identity_not_acknowledged", { count: 2 }, "The patient of 2 selected studies does not match the order: tick the box to confirm you have verified it is the same patient."],
  ])("%s", (code, params, words) => {
    const out = refusal(code, params);
    expect(out).toContain('role="alert"');
    expect(out).toContain(words);
    expect(out).not.toContain("English, never shown.");
  });

  it.each([
    ["it", "Questa finestra non è stata aperta dal RIS per un paziente senza ordine: riapri l&#x27;importazione dal RIS per questo paziente."],
    ["fr", "Cette fenêtre n&#x27;a pas été ouverte par le RIS pour un patient sans examen : rouvrez l&#x27;import depuis le RIS pour ce patient."],
  ])("order_not_found in %s", async (lng, words) => {
    expect(await inLanguage(lng, () => refusal("order_not_found"))).toContain(words);
  });

  it("nothing refused: nothing shown", () => {
    expect(renderScreen("/", "/", createElement(PromoteRefusal, { error: null }))).toBe("");
  });
});
