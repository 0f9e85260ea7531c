/**
 * The confirmation's shared parts, rendered to HTML (no browser needed): the emphasis rule of the
 * decision bar, the tick, the error notice, the study card; and the screen choosing its mode.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import i18n from "i18next";
import { createElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { initReactI18next } from "react-i18next";
import { MemoryRouter, Route, Routes } from "react-router";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError, type ImportOut, type OrderOut, type SessionContext, type StudyOut } from "../../api/client";
import { keys } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { resources } from "../../i18n";
import { AcknowledgeIdentity } from "./AcknowledgeIdentity";
import { ConfirmPage } from "./ConfirmPage";
import { DecisionBar } from "./DecisionBar";
import { StudyCard, StudyFacts } from "./StudyCard";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});

const html = (node: ReactNode) => renderToStaticMarkup(node);
const noop = () => undefined;

/** The class of the first element matching `tag` whose text contains `text`. */
function classOf(markup: string, tag: string, text: string): string | null {
  const re = new RegExp(`<${tag}[^>]*class="([^"]*)"[^>]*>(?:(?!</${tag}>).)*${text}`, "s");
  return re.exec(markup)?.[1] ?? null;
}

const bar = (props: Partial<Parameters<typeof DecisionBar>[0]> = {}) =>
  html(
    createElement(DecisionBar, {
      label: "Decide",
      confirmText: "Confirm import",
      canConfirm: true,
      confirming: false,
      onConfirm: noop,
      cancelling: false,
      onCancel: noop,
      ...props,
    }),
  );

describe("the decision bar: the seed's emphasis rule", () => {
  it("no doubt on the identity: Confirm large and green, Cancel plain, no tick", () => {
    const out = bar({ acknowledge: { label: "confirm.acknowledge", checked: false, onChange: noop } });
    expect(out).toContain('<section class="card decision" aria-label="Decide">');
    expect(out).toContain('class="actions decision-actions"');
    expect(classOf(out, "button", "Confirm import")).toBe("button button-success button-large");
    expect(classOf(out, "button", "Cancel import")).toBe("button button-secondary");
    expect(out).not.toContain("I have verified");
  });

  it("a patient not accepted: Confirm small and red, Cancel large and blue, the tick asked for", () => {
    const out = bar({ danger: true, canConfirm: false, acknowledge: { label: "confirm.acknowledge", checked: false, onChange: noop } });
    expect(out).toContain('class="card decision decision-danger"');
    expect(out).toContain('class="actions decision-actions is-danger"');
    expect(classOf(out, "button", "Confirm import")).toBe("button button-danger button-small");
    expect(classOf(out, "button", "Cancel import")).toBe("button button-primary button-large");
    expect(out).toContain("I have verified that this is the same patient");
    expect(out).toMatch(/<button[^>]*disabled=""[^>]*>(?:(?!<\/button>).)*Confirm import/s);
  });

  it("says why Confirm waits for the tick only when asked to, and only until it is given", () => {
    const ack = { label: "confirm.acknowledge" as const, checked: false, onChange: noop };
    expect(bar({ danger: true, acknowledge: ack, acknowledgeHint: true })).toContain('aria-describedby="ack-hint"');
    expect(bar({ danger: true, acknowledge: ack, acknowledgeHint: true })).toContain("Tick the box above before confirming.");
    expect(bar({ danger: true, acknowledge: ack })).not.toContain("ack-hint");
    expect(bar({ danger: true, acknowledge: { ...ack, checked: true }, acknowledgeHint: true })).not.toContain("ack-hint");
  });

  it("while a call runs: both buttons disabled, the running one says so", () => {
    const confirming = bar({ confirming: true });
    expect(confirming).toContain("Confirming…");
    expect(confirming.match(/disabled=""/g)).toHaveLength(2);
    expect(bar({ cancelling: true })).toContain("Cancelling…");
  });

  it("puts another action between Confirm and Cancel", () => {
    const out = bar({ between: createElement("button", { type: "button" }, "Back") });
    expect(out.indexOf("Confirm import")).toBeLessThan(out.indexOf("Back"));
    expect(out.indexOf("Back")).toBeLessThan(out.indexOf("Cancel import"));
  });
});

describe("the acknowledgement", () => {
  it.each([
    ["confirm.acknowledge", "I have verified that this is the same patient"],
    ["worklist.acknowledge", "I confirm the identity checks"],
  ] as const)("%s: the warning, then the labelled tick", (label, words) => {
    const out = html(createElement(AcknowledgeIdentity, { label, checked: true, onChange: noop }));
    expect(out).toMatch(/^<div class="notice notice-danger" role="alert">/);
    expect(out).toContain(`<label class="check acknowledge"><input type="checkbox" checked=""/><span>${words}</span></label>`);
  });
});

describe("the error notice", () => {
  it.each([
    [new ApiError(409, "study_conflict", "The study is held under another patient.", { count: 1 }), "1 selected study is already on the PACS under another patient"],
    [new ApiError(502, "http_error", "", { status: 502 }), "The server answered with an error."],
    [new TypeError("Failed to fetch"), "The server cannot be reached"],
  ])("%o → %s", (error, words) => {
    const out = html(createElement(ApiErrorNotice, { error }));
    expect(out).toContain('role="alert"');
    expect(out).toContain(words);
    expect(out).not.toContain("Failed to fetch");
    expect(out).not.toContain("The study is held under another patient.");
  });

  it("nothing without an error", () => {
    expect(html(createElement(ApiErrorNotice, { error: null }))).toBe("");
  });
});

const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };
const MATCH = { overall: "match", fields: { name: "match", birth_date: "match", sex: "match" }, reasons: [] } as const;

function study(extra: Partial<StudyOut> = {}): StudyOut {
  return {
    study_instance_uid: "1.2.3",
    description: "TC TORACE",
    date: "20240601",
    time: "101500",
    accession_number: "A1",
    institution: "Ospedale Esterno",
    modalities: ["CT"],
    series_count: 2,
    instance_count: 4,
    patient: ROSSI,
    identity: { ...MATCH, reasons: [] },
    patients: [],
    compared_with: ROSSI,
    acknowledgement_required: false,
    outcome: "not_selected",
    on_pacs: false,
    pacs_conflict: false,
    instances_on_pacs: null,
    warnings: [],
    order: null,
    selected: true,
    series: [],
    stages: [],
    ...extra,
  };
}

describe("the study card", () => {
  const card = (s: StudyOut, selected = true) =>
    html(createElement(StudyCard, { study: s, selected, onToggle: noop, headingId: "h" }, createElement(StudyFacts, { study: s, withOrder: true })));

  it("is named by its description, its tick labelled", () => {
    const out = card(study());
    expect(out).toContain('<article class="card study-card" aria-labelledby="h">');
    expect(out).toContain('<span class="visually-hidden">Import this study: </span><span id="h" class="study-title">TC TORACE</span>');
    expect(out).toContain('<input type="checkbox" checked=""/>');
  });

  it("a study on the PACS already: excluded, its tick disabled and off, and why", () => {
    const out = card(study({ on_pacs: true }));
    expect(out).toContain('class="card study-card is-excluded"');
    expect(out).toContain('<input type="checkbox" disabled=""/>');
    expect(out).toContain("Already on PACS, removed from import");
  });

  it("a study held on the PACS under another patient: excluded, and why", () => {
    const out = card(study({ pacs_conflict: true }));
    expect(out).toContain('class="card study-card is-excluded"');
    expect(out).not.toContain("Already on PACS");
    expect(out).toMatch(/notice-danger/);
  });

  it("its facts: beside an order, with time, accession and institution; otherwise the medium's patient first", () => {
    const withOrder = html(createElement(StudyFacts, { study: study(), withOrder: true }));
    expect(withOrder).toContain("Ospedale Esterno");
    expect(withOrder).toContain("10:15");
    expect(withOrder).not.toContain("Patient found on the medium");
    const alone = html(createElement(StudyFacts, { study: study(), withOrder: false }));
    expect(alone).toMatch(/^<dl class="facts study-facts"><div><dt>Patient found on the medium \(DICOM\)<\/dt><dd>ROSSI MARIO, 01\/01\/1974, Male<\/dd>/);
    expect(alone).not.toContain("Ospedale Esterno");
    expect(alone).not.toContain("10:15");
  });
});

describe("the confirmation screen's modes", () => {
  const ORDER: OrderOut = {
    accession_number: "ACC-1",
    modality: "CT",
    order_id: "O1",
    patient: ROSSI,
    procedure: { code: "P", description: "TC" } as OrderOut["procedure"],
    requested_procedure_id: "RP1",
    scheduled_at: null,
    scheduled_procedure_step_id: "SPS1",
  };
  const imp = (extra: Partial<ImportOut>): ImportOut => ({
    id: "imp1",
    badge: "primary",
    created_at: "2024-06-01T10:00:00Z",
    created_by: "tech01",
    created_by_name: "Giulia",
    error: null,
    retryable: false,
    media: { dicom: 1, dicomdir: true, files: 1, non_dicom: 0, skipped: [], unreadable: 0 } as unknown as ImportOut["media"],
    order: ORDER,
    status: "awaiting_confirmation",
    studies: [study()],
    support_id: "SUP-1",
    updated_at: "2024-06-01T10:00:00Z",
    upload: { received: 1, size: 1 },
    zone: "pacs",
    ...extra,
  });
  const page = (i: ImportOut, order: OrderOut | null) => {
    vi.stubGlobal("sessionStorage", { getItem: () => JSON.stringify({ token: "tok", expiresAt: "2999-01-01T00:00:00Z" }) });
    const client = new QueryClient();
    const session: SessionContext = { expires_at: "2999-01-01T00:00:00Z", order, user: { department: "R", id: "u", name: "U", roles: ["clinician"] } };
    client.setQueryData(keys.import("imp1"), i);
    client.setQueryData([...keys.session, "tok"], session);
    try {
      return html(
        createElement(
          QueryClientProvider,
          { client },
          createElement(
            MemoryRouter,
            { initialEntries: ["/imports/imp1/confirm"] },
            createElement(Routes, null, createElement(Route, { path: "/imports/:id/confirm", element: createElement(ConfirmPage) })),
          ),
        ),
      );
    } finally {
      vi.unstubAllGlobals();
    }
  };

  it.each([
    ["with the launch's order", imp({}), ORDER, "Confirm the import of the studies", "Confirm import"],
    ["without an order: the worklist", imp({ order: null }), null, "Find the order of each study in the worklist", "Continue to the identity checks"],
    ["into the temporary zone", imp({ order: null, zone: "temporary" }), null, "Keep the studies in the temporary zone", "Keep in the temporary zone"],
  ])("%s", (_, i, order, heading, button) => {
    const out = page(i, order);
    expect(out).toContain(`<h1 tabindex="-1">${heading}</h1>`);
    expect(out).toContain(button);
    expect(out).toContain("Cancel import");
    expect(out).toContain('<article class="card study-card"');
  });

  it.each([
    ["en", "9 files: 4 DICOM, 1 other, 1 unreadable.", "2 files: 1 DICOM, 0 other, 1 unreadable."],
    ["fr", "9 fichiers : 4 DICOM, 1 autre, 1 illisible.", "2 fichiers : 1 DICOM, 0 autre, 1 illisible."],
    ["it", "9 file: 4 DICOM, 1 altro, 1 illeggibile.", "2 file: 1 DICOM, 0 altri, 1 illeggibile."],
  ])("the medium's counts agree with their numbers (%s)", async (lng, nine, two) => {
    const counts = (files: number, dicom: number, other: number, unreadable: number) =>
      imp({ media: { dicom, dicomdir: false, files, non_dicom: other, skipped: [], unreadable } as unknown as ImportOut["media"] });
    await i18n.changeLanguage(lng);
    try {
      expect(page(counts(9, 4, 1, 1), ORDER)).toContain(nine);
      expect(page(counts(2, 1, 0, 1), ORDER)).toContain(two);
    } finally {
      await i18n.changeLanguage("en");
    }
  });

  it("an import no longer waiting: a link to its monitoring instead", () => {
    expect(page(imp({ status: "processing" }), ORDER)).toContain('href="/imports/imp1"');
  });

  // point 12: the order's patient once, then each patient of the medium compared once, with their studies
  const MARIA = { ...ROSSI, name: "ROSSI^MARIA", sex: "F" };
  const TWIN: NonNullable<StudyOut["identity"]> = {
    overall: "mismatch",
    fields: { name: "similar", birth_date: "match", sex: "mismatch" },
    reasons: ["GIVEN_NAME_TYPO", "SEX_DIFFERS"],
  };
  const count = (out: string, text: string) => out.split(text).length - 1;

  it("the order's patient once; one comparison per patient found on the medium, their studies under it", () => {
    const out = page(
      imp({
        studies: [
          study({ study_instance_uid: "1.1", description: "TC TORACE" }),
          study({ study_instance_uid: "1.2", description: "RX TORACE" }),
          study({
            study_instance_uid: "1.3",
            description: "TC ADDOME MISTO",
            acknowledgement_required: true,
            warnings: ["STUDY_PATIENTS_DIFFER"],
            patients: [
              { patient: ROSSI, identity: { ...MATCH, fields: { ...MATCH.fields }, reasons: [] } },
              { patient: MARIA, identity: TWIN },
            ],
          }),
        ],
      }),
      ORDER,
    );
    expect(count(out, ">Patient of the order (RIS)</h2>")).toBe(1);
    expect(count(out, "HOSP-0042 (HOSPITAL)")).toBe(1);
    // two patients on the medium: two groups, two comparisons, three study cards
    expect(count(out, 'class="card patient-group"')).toBe(2);
    expect(count(out, 'class="identity identity-')).toBe(2);
    expect(count(out, '<article class="card study-card"')).toBe(3);
    expect(out).toMatch(/Patient 1 of 2 found on the medium \(DICOM\):(?:(?!<\/h3>).)*ROSSI MARIO/s);
    expect(out).toMatch(/Patient 2 of 2 found on the medium \(DICOM\):(?:(?!<\/h3>).)*ROSSI MARIA/s);
    // the studies of ROSSI MARIO under the first comparison, before the second patient's heading
    const second = out.indexOf("Patient 2 of 2");
    for (const name of ["TC TORACE", "RX TORACE", "TC ADDOME MISTO</span>"]) expect(out.indexOf(name)).toBeLessThan(second);
    // the study holding both says so, and the second patient's group names it
    expect(out).toContain("2 different patients found in this study");
    expect(out).toContain("Its images name: ROSSI MARIO, ROSSI MARIA.");
    // said once: the server's warning does not repeat the notice
    expect(out).not.toContain("The images of this study name more than one patient.");
    expect(out.slice(second)).toContain(
      "TC ADDOME MISTO — this study holds more than one patient: it is selected (or not) with patient 1, ROSSI MARIO.",
    );
    // the server's gate decides: the tick is asked for
    expect(out).toContain("I have verified that this is the same patient");
  });

  it("a single patient: one comparison, titled without a number", () => {
    const out = page(imp({ studies: [study(), study({ study_instance_uid: "1.2", description: "RX" })] }), ORDER);
    expect(count(out, 'class="identity identity-')).toBe(1);
    expect(out).toMatch(/<h3 id="[^"]+" class="patient-group-title">Patient found on the medium \(DICOM\): <span class="patient-group-name">ROSSI MARIO<\/span><\/h3>/);
    expect(out).toContain("PATIENT MATCHES");
  });

  it("the lines say what the badges say; a reason is under its field and not said twice", () => {
    const out = page(
      imp({ studies: [study({ patient: MARIA, identity: TWIN, patients: [], acknowledgement_required: true })] }),
      ORDER,
    );
    expect(out).toContain("PATIENT DOES NOT MATCH");
    expect(out).toContain("Similar – check");
    expect(out).toContain("PATIENT NAME SIMILAR – CHECK");
    expect(out).not.toContain("PATIENT NAME DOES NOT MATCH");
    expect(count(out, "SEX DOES NOT MATCH")).toBe(1);
    expect(out).not.toContain("Sex does not match");
    expect(out).toMatch(/data-field="name">(?:(?!<\/li><\/ul><\/li>).)*Given name possibly misspelt/s);
    expect(classOf(out, "li", "PATIENT NAME SIMILAR – CHECK")).toBe("reason-line reason-warning");
    expect(classOf(out, "li", "SEX DOES NOT MATCH")).toBe("reason-line reason-danger");
  });

  it("a different format: an info line under an info banner, never 'does not match'", () => {
    const out = page(
      imp({
        studies: [
          study({
            patient: { ...ROSSI, name: "Mario^Rossi" },
            identity: {
              overall: "format_different",
              fields: { name: "format_different", birth_date: "match", sex: "match" },
              reasons: ["NAME_ORDER_SWAPPED"],
            },
          }),
        ],
      }),
      ORDER,
    );
    expect(out).toContain('class="identity identity-info"');
    expect(out).toContain("DIFFERENT FORMAT");
    expect(classOf(out, "li", "PATIENT NAME: DIFFERENT FORMAT")).toBe("reason-line reason-info");
    expect(out).toContain("Names in another order");
    expect(out).not.toMatch(/DOES NOT MATCH/);
    expect(out).not.toContain("I have verified");
  });

  it("a comparison made with the order's former patient keeps its notice", () => {
    const VERDI = { name: "VERDI^ANNA", id: "HOSP-0099", issuer: "HOSPITAL", birth_date: "19800512", sex: "F" };
    const out = page(imp({ studies: [study({ compared_with: VERDI })] }), ORDER);
    expect(out).toContain("The RIS has changed the order&#x27;s patient since this comparison");
    // the comparison shown is the one made: with VERDI ANNA
    expect(out).toMatch(/<table[^>]*>(?:(?!<\/table>).)*VERDI ANNA/s);
  });

  it("in Italian and French: the seed's titles and lines", () => {
    const twin = imp({ studies: [study({ patient: MARIA, identity: TWIN, patients: [], acknowledgement_required: true })] });
    void i18n.changeLanguage("it");
    try {
      const it = page(twin, ORDER);
      expect(it).toContain("Paziente dell&#x27;ordine (RIS)");
      expect(it).toContain("ID Ospedale");
      expect(it).toContain("Paziente trovato (DICOM): <span");
      expect(it).toContain("SESSO NON CORRISPONDE");
      expect(it).toContain(`${i18n.t("confirm.fieldLine.similar.name")}`);
      expect(it).not.toContain(`${i18n.t("confirm.fieldLine.mismatch.name")}`);
      void i18n.changeLanguage("fr");
      const fr = page(twin, ORDER);
      expect(fr).toContain("LE SEXE NE CORRESPOND PAS");
      expect(fr).toContain(`${i18n.t("confirm.fieldLine.similar.name")}`);
      expect(fr).not.toContain(`${i18n.t("confirm.fieldLine.mismatch.name")}`);
    } finally {
      void i18n.changeLanguage("en");
    }
  });
});
