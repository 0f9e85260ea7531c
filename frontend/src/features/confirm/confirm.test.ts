/**
 * The confirmation's shared parts, rendered to HTML (no browser needed): the emphasis rule of the
 * decision bar, the tick, the error notice, the study card; and the screen choosing its mode.
 */
import i18n from "i18next";
import { createElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiError, type ImportOut, type OrderOut, type StudyOut } from "../../api/client";
import { documentOf, filedBefore, importOf, LOCAL_BIANCHI, MATCH, orderOf, PATIENT_KEY, patientLaunchOf, renderPage, ROSSI, study } from "../../api/testing";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { AcknowledgeIdentity } from "./AcknowledgeIdentity";
import { ConfirmPage } from "./ConfirmPage";
import { DecisionBar } from "./DecisionBar";
import { PatientsCompare } from "./IdentityCompare";
import { RenewedNotice } from "./RenewedNotice";
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

/** Objects of the study that cannot reach the PACS, as the analysis foresaw them. */
const UNSENT: StudyOut["unsent"] = [
  { path: "DICOM/ST000001/SE000002/IM0003", reason: "cannot_convert", syntax: "JPEG 2000" },
  { path: "DICOM/ST000001/SE000009/SR0001", reason: "sop_class_not_accepted", syntax: "1.2.840.10008.1.2.1" },
];

describe("what the PACS cannot take as it is, before anything is sent", () => {
  const card = (s: StudyOut) => html(createElement(StudyCard, { study: s, selected: true, onToggle: noop, headingId: "h" }));
  /** The markup of the first element `tag` with class `cls`, up to its end (not nested). */
  const part = (markup: string, cls: string, tag = "div") =>
    new RegExp(`<${tag} class="${cls}"[^>]*>(?:(?!</${tag}>).)*</${tag}>`, "s").exec(markup)?.[0] ?? "";

  it.each([
    ["not known (a DICOMweb PACS)", study({ to_convert: null })],
    ["nothing to convert, nothing left out", study({ to_convert: 0, unsent: [], unsent_count: 0 })],
  ])("%s: nothing is said", (_, s) => {
    const out = card(s);
    expect(out).not.toContain("notice");
    expect(out).not.toContain("convert");
    expect(out).not.toContain("<ul");
  });

  it.each([
    [1, "1 image is in a format this PACS does not accept: it will be converted (decompressed) before it is sent."],
    [3, "3 images are in a format this PACS does not accept: they will be converted (decompressed) before they are sent."],
  ])("%i image(s) to convert: an information, not a warning", (count, words) => {
    const out = card(study({ to_convert: count }));
    expect(part(out, "notice notice-info")).toContain(`<p>${words}</p>`);
    expect(out).not.toContain("notice-warning");
    expect(out).not.toContain("cannot be sent");
  });

  it("objects that cannot reach the PACS: a warning naming each in a list; confirming stays possible", () => {
    const out = card(study({ to_convert: 2, unsent: UNSENT, unsent_count: 2 }));
    const warning = part(out, "notice notice-warning");
    const title = /<p class="notice-title"><span id="([^"]+)">2 images cannot be sent to the PACS<\/span><\/p>/.exec(warning);
    expect(title).not.toBeNull();
    expect(warning).toContain(
      "<p>The other images of this study will be sent, but the study will not be complete on the PACS. The files of these images are kept on the server for the PACS administrator.</p>",
    );
    // a real list, named by the notice's title
    expect(warning).toContain(`<ul class="unsent-list" aria-labelledby="${title![1]}">`);
    expect(warning).toContain(
      '<li data-reason="cannot_convert">DICOM/ST000001/SE000002/IM0003: cannot be converted to a format the PACS accepts (JPEG 2000)</li>',
    );
    expect(warning).toContain('<li data-reason="sop_class_not_accepted">DICOM/ST000001/SE000009/SR0001: the PACS does not accept this kind of object</li>');
    expect(warning).not.toContain("more file");
    // the conversion is said too, apart
    expect(part(out, "notice notice-info")).toContain("2 images are in a format this PACS does not accept");
    // a warning, not a refusal: the study stays ticked and can be
    expect(out).toContain('<input type="checkbox" checked=""/>');
    expect(out).toContain('<article class="card study-card"');
  });

  it("one object: the singular; a syntax the server could not name is left out", () => {
    const out = card(study({ unsent: [{ path: "IM1", reason: "cannot_convert", syntax: "" }], unsent_count: 1 }));
    expect(out).toContain("1 image cannot be sent to the PACS");
    expect(out).toContain("The file of this image is kept on the server for the PACS administrator.");
    expect(out).toContain("<li data-reason=\"cannot_convert\">IM1: cannot be converted to a format the PACS accepts</li>");
  });

  it("every image of the study: says that none goes", () => {
    const out = card(study({ instance_count: 2, unsent: UNSENT, unsent_count: 2 }));
    expect(out).toContain("No image of this study can be sent: the study will not reach the PACS.");
    expect(out).not.toContain("The other images");
  });

  it.each([
    [52, "and 50 more files"],
    [3, "and 1 more file"],
  ])("%i objects, 2 named: the rest counted", (total, more) => {
    const out = card(study({ instance_count: 400, unsent: UNSENT, unsent_count: total }));
    expect(out).toContain(`${total} images cannot be sent to the PACS`);
    expect(out.match(/<li /g)).toHaveLength(2);
    expect(out).toContain(`<p class="unsent-more">${more}</p>`);
  });

  it("a path is text, never markup", () => {
    const out = card(study({ unsent: [{ path: 'CD/<img src=x onerror="alert(1)">', reason: "sop_class_not_accepted", syntax: "" }], unsent_count: 1 }));
    expect(out).not.toContain("<img");
    expect(out).toContain("CD/&lt;img src=x onerror=&quot;alert(1)&quot;&gt;: the PACS does not accept this kind of object");
  });

  it("a study that is not sent (on the PACS, or held there under another patient): nothing about it", () => {
    for (const s of [study({ on_pacs: true }), study({ pacs_conflict: true })]) {
      const out = card({ ...s, to_convert: 3, unsent: UNSENT, unsent_count: 2 });
      expect(out).not.toContain("cannot be sent");
      expect(out).not.toContain("converted");
    }
  });

  it("in Italian and French", async () => {
    const languages: [string, Partial<StudyOut>, string[]][] = [
      [
        "it",
        { to_convert: 1, unsent_count: 3 },
        [
          "1 immagine è in un formato che questo PACS non accetta: verrà convertita (decompressa) prima dell&#x27;invio.",
          "3 immagini non possono essere inviate al PACS",
          "Le altre immagini dello studio verranno inviate, ma sul PACS lo studio non sarà completo. I file di queste immagini restano sul server per l&#x27;amministratore del PACS.",
          "DICOM/ST000001/SE000002/IM0003: non può essere convertito in un formato accettato dal PACS (JPEG 2000)",
          "DICOM/ST000001/SE000009/SR0001: il PACS non accetta questo tipo di oggetto",
          "e 1 altro file",
        ],
      ],
      [
        "fr",
        { to_convert: 4, unsent_count: 12 },
        [
          "4 images sont dans un format que ce PACS n&#x27;accepte pas : elles seront converties (décompressées) avant l&#x27;envoi.",
          "12 images ne peuvent pas être envoyées au PACS",
          "Les autres images de l&#x27;étude seront envoyées, mais l&#x27;étude ne sera pas complète sur le PACS. Les fichiers de ces images sont conservés sur le serveur pour l&#x27;administrateur du PACS.",
          "DICOM/ST000001/SE000002/IM0003 : ne peut pas être converti dans un format accepté par le PACS (JPEG 2000)",
          "DICOM/ST000001/SE000009/SR0001 : le PACS n&#x27;accepte pas ce type d&#x27;objet",
          "et 10 autres fichiers",
        ],
      ],
    ];
    for (const [lng, counts, words] of languages) {
      const out = await inLanguage(lng, () => card(study({ instance_count: 40, unsent: UNSENT, ...counts })));
      for (const w of words) expect(out, lng).toContain(w);
    }
  });
});

describe("the confirmation screen's modes", () => {
  const ORDER: OrderOut = orderOf();
  const imp = (extra: Partial<ImportOut>): ImportOut => importOf([study()], { order: ORDER, ...extra });
  const page = (i: ImportOut, order: OrderOut | null) =>
    renderPage("/imports/imp1/confirm", "/imports/:id/confirm", createElement(ConfirmPage), i, order);

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

  it.each([
    ["en", "4 files: 2 DICOM, 2 reports or photos, 0 other, 0 unreadable."],
    ["fr", "4 fichiers : 2 DICOM, 2 comptes rendus ou photos, 0 autre, 0 illisible."],
    ["it", "4 file: 2 DICOM, 2 referti o foto, 0 altri, 0 illeggibili."],
  ])("the disc's reports and photos are counted with the files (%s)", async (lng, four) => {
    const doc = (id: string) => documentOf({ id, path: `${id}.pdf` });
    const media = { dicom: 2, dicomdir: false, files: 4, non_dicom: 0, skipped: [], unreadable: 0 } as unknown as ImportOut["media"];
    await i18n.changeLanguage(lng);
    try {
      expect(page(imp({ media, documents: [doc("a"), doc("b")] }), ORDER)).toContain(four);
    } finally {
      await i18n.changeLanguage("en");
    }
  });

  it.each([
    ["with the launch's order", {}, ORDER, "Confirm import"],
    ["without an order: the worklist", { order: null }, null, "Continue to the identity checks"],
    ["into the temporary zone", { order: null, zone: "temporary" as const }, null, "Keep in the temporary zone"],
  ])("%s: each study says what cannot reach the PACS, and confirming stays possible", (_, extra, order, button) => {
    const out = page(imp({ ...extra, studies: [study({ to_convert: 1, unsent: UNSENT, unsent_count: 60 })] }), order);
    expect(out).toContain("1 image is in a format this PACS does not accept");
    expect(out).toContain("60 images cannot be sent to the PACS");
    expect(out).toContain("DICOM/ST000001/SE000002/IM0003: cannot be converted to a format the PACS accepts (JPEG 2000)");
    expect(out).toContain("and 58 more files");
    // said once per study, not once per screen part
    expect(count(out, "60 images cannot be sent to the PACS")).toBe(1);
    // a warning, not a refusal: the button is as it is without it
    const disabled = (markup: string) => new RegExp(`<button[^>]*disabled=""[^>]*>(?:(?!</button>).)*${button}`, "s").test(markup);
    expect(disabled(out)).toBe(disabled(page(imp({ ...extra }), order)));
    if (order) expect(disabled(out)).toBe(false);
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

/** The import of one study of ROSSI MARIO, launched with ROSSI MARIO's order. */
const ORDER_OF_ROSSI: OrderOut = orderOf();
const confirmPage = (s: StudyOut, state: unknown = null) =>
  renderPage("/imports/imp1/confirm", "/imports/:id/confirm", createElement(ConfirmPage), importOf([s], { order: ORDER_OF_ROSSI }), ORDER_OF_ROSSI, state);
/** The markup of the first element `tag` with class `cls`, up to its end (not nested). */
const part = (markup: string, cls: string, tag = "div") =>
  new RegExp(`<${tag} class="${cls}"[^>]*>(?:(?!</${tag}>).)*</${tag}>`, "s").exec(markup)?.[0] ?? "";

describe("what the medium's patient was filed under before (issue 16)", () => {
  /** Filed before under the order's own patient: the comparison is as it was, with a reassurance. */
  const sameBefore = study({ identity: { ...MATCH, fields: { ...MATCH.fields }, reasons: [], filed_before: [filedBefore()] } });
  /** Filed before under another patient of the hospital: the server made it a mismatch. */
  const otherBefore = study({
    identity: {
      ...MATCH,
      fields: { ...MATCH.fields },
      overall: "mismatch",
      reasons: ["FILED_BEFORE_UNDER_ANOTHER_PATIENT"],
      filed_before: [filedBefore({ patient: LOCAL_BIANCHI, same: false })],
    },
    acknowledgement_required: true,
  });

  it("never filed: nothing said", () => {
    const out = confirmPage(study());
    expect(out).not.toContain("filed-before");
    expect(out).not.toContain("Filed before");
  });

  it("filed before under this patient: an information under the comparison, the patient still matches", () => {
    const out = confirmPage(sameBefore);
    const line = "Filed before under this patient: ROSSI MARIO (HOSP-0042, HOSPITAL), 05/12/2026, by Giulia Bianchi";
    expect(part(out, "notice notice-info")).toContain(`<li data-filed-before="same">${line}</li>`);
    // under the comparison table, before the studies
    expect(out.indexOf("</table>")).toBeLessThan(out.indexOf(line));
    expect(out.indexOf(line)).toBeLessThan(out.indexOf('<article class="card study-card"'));
    expect(out).toContain("PATIENT MATCHES");
    expect(out).not.toContain("ANOTHER patient");
    expect(out).not.toContain("I have verified");
  });

  it("filed before under another patient: a danger notice, the reason listed, the tick asked for", () => {
    const out = confirmPage(otherBefore);
    const danger = /<div class="filed-before"><div class="notice notice-danger">(?:(?!<\/div><\/div>).)*<\/div><\/div>/s.exec(out)?.[0] ?? "";
    expect(danger).toContain(
      '<li data-filed-before="other"><strong>Filed before under ANOTHER patient of the hospital: BIANCHI LUCA (HOSP-0777, HOSPITAL), 05/12/2026, by Giulia Bianchi.</strong></li>',
    );
    expect(danger).toContain("<p>Check that this medium belongs to the order&#x27;s patient.</p>");
    expect(out).toContain("PATIENT DOES NOT MATCH");
    expect(out).toContain('<li data-reason="FILED_BEFORE_UNDER_ANOTHER_PATIENT"><span aria-hidden="true">• </span>Filed before under another patient of the hospital</li>');
    expect(out).not.toContain("Other difference");
    expect(out).toContain("I have verified that this is the same patient");
  });

  it("both, the last first: the warning above the information", () => {
    const s = study({
      identity: {
        ...MATCH,
        fields: { ...MATCH.fields },
        overall: "mismatch",
        reasons: ["FILED_BEFORE_UNDER_ANOTHER_PATIENT"],
        filed_before: [filedBefore({ patient: LOCAL_BIANCHI, same: false, at: "2026-12-07T12:00:00Z" }), filedBefore()],
      },
      acknowledgement_required: true,
    });
    const out = confirmPage(s);
    expect(out.indexOf("BIANCHI LUCA (HOSP-0777, HOSPITAL), 07/12/2026")).toBeGreaterThan(0);
    expect(out.indexOf("BIANCHI LUCA (HOSP-0777, HOSPITAL), 07/12/2026")).toBeLessThan(out.indexOf("ROSSI MARIO (HOSP-0042, HOSPITAL), 05/12/2026"));
  });

  it("names each patient of the hospital with its issuer: the same ID under two issuers never reads alike", () => {
    const out = confirmPage(
      study({
        identity: {
          ...MATCH,
          fields: { ...MATCH.fields },
          overall: "mismatch",
          reasons: ["FILED_BEFORE_UNDER_ANOTHER_PATIENT"],
          filed_before: [
            filedBefore({ patient: { ...LOCAL_BIANCHI, id: "HOSP-0042", issuer: "OTHER-HOSPITAL" }, same: false }),
            filedBefore({ patient: { ...LOCAL_BIANCHI, issuer: "" }, same: false, at: "2026-12-04T12:00:00Z" }),
            filedBefore(),
          ],
        },
        acknowledgement_required: true,
      }),
    );
    expect(out).toContain("ANOTHER patient of the hospital: BIANCHI LUCA (HOSP-0042, OTHER-HOSPITAL), 05/12/2026");
    // no issuer: the ID alone
    expect(out).toContain("ANOTHER patient of the hospital: BIANCHI LUCA (HOSP-0777), 04/12/2026");
    expect(out).toContain("Filed before under this patient: ROSSI MARIO (HOSP-0042, HOSPITAL), 05/12/2026");
  });

  it("in the worklist's and the temporary zone's checks too (each patient's comparison)", () => {
    const MARIA = { ...ROSSI, name: "ROSSI^MARIA", id: "EXT-2", sex: "F" };
    const out = html(
      createElement(PatientsCompare, {
        orderPatient: ROSSI,
        headingId: "h",
        comparisons: [
          { patient: ROSSI, identity: { ...MATCH, fields: { ...MATCH.fields }, reasons: [], filed_before: [filedBefore()] } },
          {
            patient: MARIA,
            identity: { ...MATCH, fields: { ...MATCH.fields }, overall: "mismatch", reasons: [], filed_before: [filedBefore({ patient: LOCAL_BIANCHI, same: false })] },
          },
        ],
      }),
    );
    expect(out).toContain("Filed before under this patient: ROSSI MARIO (HOSP-0042, HOSPITAL)");
    const second = out.indexOf("Patient 2 of 2 found in this study");
    expect(second).toBeGreaterThan(0);
    expect(out.slice(second)).toContain("Filed before under ANOTHER patient of the hospital: BIANCHI LUCA (HOSP-0777, HOSPITAL)");
    expect(out.slice(0, second)).not.toContain("ANOTHER patient");
  });

  it("in Italian and French", async () => {
    const languages: [string, string[]][] = [
      [
        "it",
        [
          "Archiviato in precedenza sotto questo paziente: ROSSI MARIO (HOSP-0042, HOSPITAL), il 05/12/2026, da Giulia Bianchi",
          "Archiviato in precedenza sotto un ALTRO paziente dell&#x27;ospedale: BIANCHI LUCA (HOSP-0777, HOSPITAL), il 05/12/2026, da Giulia Bianchi.",
          "Verifica che questo supporto appartenga al paziente dell&#x27;ordine.",
          "Archiviato in precedenza sotto un altro paziente dell&#x27;ospedale</li>",
        ],
      ],
      [
        "fr",
        [
          "Classé auparavant sous ce patient : ROSSI MARIO (HOSP-0042, HOSPITAL), le 05/12/2026, par Giulia Bianchi",
          "Classé auparavant sous un AUTRE patient de l&#x27;hôpital : BIANCHI LUCA (HOSP-0777, HOSPITAL), le 05/12/2026, par Giulia Bianchi.",
          "Vérifiez que ce support appartient bien au patient de l&#x27;examen.",
          "Classé auparavant sous un autre patient de l&#x27;hôpital</li>",
        ],
      ],
    ];
    for (const [lng, words] of languages) {
      const out = await inLanguage(lng, () => confirmPage(sameBefore) + confirmPage(otherBefore));
      for (const w of words) expect(out, lng).toContain(w);
      expect(out, lng).not.toContain("Filed before");
    }
  });
});

describe("the comparison renewed because a patient of the medium was filed before under another patient, unsaid (identity_changed)", () => {
  it.each([
    [
      "en",
      "A patient of this medium was filed before under another patient",
      "Nothing was imported. A patient of this medium has been filed before under another patient of the hospital, which the comparison shown did not say: it does now, below. Check it, then confirm again — or cancel the import.",
    ],
    [
      "it",
      "Un paziente di questo supporto è stato archiviato in precedenza sotto un altro paziente",
      "Nulla è stato importato. Un paziente di questo supporto è stato archiviato in precedenza sotto un altro paziente dell&#x27;ospedale, cosa che il confronto mostrato non indicava: ora lo indica, qui sotto. Verificalo, poi conferma di nuovo, oppure annulla l&#x27;importazione.",
    ],
    [
      "fr",
      "Un patient de ce support a été classé auparavant sous un autre patient",
      "Rien n&#x27;a été importé. Un patient de ce support a été classé auparavant sous un autre patient de l&#x27;hôpital, ce que la comparaison affichée ne disait pas : elle le dit désormais, ci-dessous. Vérifiez-la, puis confirmez de nouveau, ou annulez l&#x27;import.",
    ],
  ])("%s: its own title and words, announced", async (lng, title, body) => {
    const out = await inLanguage(lng, () => html(createElement(RenewedNotice, { code: "identity_changed" })));
    expect(out).toContain('<div tabindex="-1" class="renewed"><div class="notice notice-danger" role="alert">');
    expect(out).toContain(`<p class="notice-title">${title}</p>`);
    expect(out).toContain(`<p>${body}</p>`);
  });

  it("handed over by the monitoring page's Retry: the confirmation opens with the notice and the new comparison", () => {
    const s = study({
      identity: {
        ...MATCH,
        fields: { ...MATCH.fields },
        overall: "mismatch",
        reasons: ["FILED_BEFORE_UNDER_ANOTHER_PATIENT"],
        filed_before: [filedBefore({ patient: LOCAL_BIANCHI, same: false })],
      },
      acknowledgement_required: true,
    });
    const out = confirmPage(s, { renewed: "identity_changed" });
    expect(out).toContain("A patient of this medium was filed before under another patient");
    expect(out).toContain("The comparison above is new: check it before confirming again.");
    expect(out.indexOf("A patient of this medium was filed before under another patient")).toBeLessThan(out.indexOf("Filed before under ANOTHER patient"));
    // a code the app does not know is not a renewal
    expect(confirmPage(s, { renewed: "something_else" })).not.toContain('class="renewed"');
  });
});

describe("the confirmation of an import for a patient without an order", () => {
  const PATIENT = patientLaunchOf();
  const MISMATCH: StudyOut["identity"] = {
    overall: "mismatch",
    fields: { name: "mismatch", birth_date: "match", sex: "mismatch" },
    reasons: ["GIVEN_NAME_DIFFERS", "SEX_DIFFERS"],
  };
  const page = (s: StudyOut) =>
    renderPage("/imports/imp1/confirm", "/imports/:id/confirm", createElement(ConfirmPage), importOf([s], { order: PATIENT }), PATIENT);

  it("says what is written (filed under the patient, no accession number), compares with the patient (RIS); never the key", () => {
    const out = page(study({ compared_with: ROSSI }));
    expect(out).toContain("<h1 tabindex=\"-1\">Confirm the import of the studies</h1>");
    expect(out).toContain("Patient (RIS) – import without an order");
    expect(out).toContain("Import for the patient, without an order: the images are filed under this patient with no accession number.");
    expect(out).toContain("Compare the patient (RIS) with each patient found on the medium, then choose the studies to import.");
    expect(out).toContain('<th scope="col">Patient (RIS)</th>');
    expect(out).toContain("PATIENT MATCHES");
    expect(out).not.toContain("Patient of the order");
    expect(out).not.toContain(PATIENT_KEY);
  });

  it("a patient who does not match: the warning names this patient, not an order, and the tick is asked", () => {
    const twin = study({
      patient: { ...ROSSI, name: "ROSSI^MARIA", sex: "F" },
      identity: MISMATCH,
      compared_with: ROSSI,
      acknowledgement_required: true,
    });
    const out = page(twin);
    expect(out).toContain("Warning: a selected study&#x27;s patient is not this patient.");
    expect(out).not.toContain("does not match the order");
    expect(out).toContain("I have verified that this is the same patient");
  });

  it.each([
    ["it", "Confronta il paziente (RIS) con ogni paziente trovato sul supporto, poi scegli gli studi da importare.", "Paziente (RIS)"],
    ["fr", "Comparez le patient (RIS) avec chaque patient trouvé sur le support, puis choisissez les études à importer.", "Patient (RIS)"],
  ])("in %s", async (lng, intro, column) => {
    const out = await inLanguage(lng, () => page(study({ compared_with: ROSSI })));
    expect(out).toContain(intro);
    expect(out).toContain(`<th scope="col">${column}</th>`);
    expect(out).not.toContain(PATIENT_KEY);
  });
});
