/**
 * The audit trail, rendered to HTML (no browser needed): an event of an import for a patient
 * without an order records the server's key of the patient in the accession number's place; the
 * trail says there is none, never the key as an accession number. An order's event names it.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditPageOut } from "../../api/client";
import { PATIENT_KEY, renderScreen } from "../../api/testing";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { AuditPage } from "./AuditPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

type AuditEvent = AuditPageOut["items"][number];
const event = (id: number, accession: string): AuditEvent => ({
  id,
  seq: id,
  at: "2026-12-05T12:00:00Z",
  action: "import.confirmed",
  actor_id: "tech01",
  actor_name: "Giulia Bianchi",
  department: "Radiologia",
  outcome: "success",
  accession_number: accession,
  patient_id: "HOSP-0042",
  import_id: "imp1",
  study_instance_uid: "1.2.3",
  details: {},
  hash: null,
});

/** The trail for an auditor, its first page (no filter) already read. */
const trail = (items: AuditEvent[]) =>
  renderScreen("/audit", "/audit", createElement(AuditPage), {
    roles: ["auditor"],
    data: [[["audit", {}, 0], { items, next_after: null } satisfies AuditPageOut]],
  });

describe("the accession number of an audit event", () => {
  it("an order's: shown; a patient's without an order: none, never the key of the patient", () => {
    const out = trail([event(1, "ACC-1"), event(2, PATIENT_KEY)]);
    expect(out).toContain('<td class="mono">ACC-1</td>');
    expect(out).toContain("<td>None (patient without an order)</td>");
    expect(out).not.toContain(PATIENT_KEY);
  });

  it.each([
    ["it", "Nessuno (paziente senza ordine)"],
    ["fr", "Aucun (patient sans examen)"],
  ])("in %s", async (lng, none) => {
    const out = await inLanguage(lng, () => trail([event(2, PATIENT_KEY)]));
    expect(out).toContain(none);
    expect(out).not.toContain(PATIENT_KEY);
  });
});
