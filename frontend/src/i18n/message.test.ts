import type { TFunction } from "i18next";
import { beforeAll, describe, expect, it } from "vitest";
import { translators } from "./testing";
import { AUDIT_ACTIONS, auditActionText, auditOutcomeText, isKnownCode, messageText, studyWarningText } from "./message";

let en: TFunction;
let itT: TFunction;
let fr: TFunction;

beforeAll(async () => {
  ({ en, it: itT, fr } = await translators());
});

describe("messageText", () => {
  it("words a code in the user's language, never the English message", () => {
    const m = { code: "archive_invalid", params: {}, message: "The file is not a readable ZIP archive (bad magic)." };
    expect(messageText(en, m)).toBe("The archive is damaged or is not a ZIP file.");
    expect(messageText(itT, m)).toBe("L'archivio è danneggiato o non è un file ZIP.");
    expect(messageText(fr, m)).toBe("L'archive est endommagée ou n'est pas un fichier ZIP.");
  });

  it("plurals from count", () => {
    expect(messageText(en, { code: "instances_verified", params: { count: 1 } })).toBe("1 image verified.");
    expect(messageText(en, { code: "instances_verified", params: { count: 4 } })).toBe("4 images verified.");
    expect(messageText(itT, { code: "instances_verified", params: { count: 1 } })).toBe("Studio verificato: 1 immagine.");
    expect(messageText(itT, { code: "instances_verified", params: { count: 4 } })).toBe("Studio verificato: 4 immagini.");
    expect(messageText(fr, { code: "instances_verified", params: { count: 0 } })).toBe("0 image vérifiée.");
    expect(messageText(fr, { code: "instances_verified", params: { count: 4 } })).toBe("4 images vérifiées.");
  });

  it("a count given as a string still counts", () => {
    expect(messageText(en, { code: "instances_verified", params: { count: "2" } })).toBe("2 images verified.");
  });

  it("a plural code without its count shows a dash, not a placeholder", () => {
    expect(messageText(en, { code: "instances_verified" })).toBe("— images verified.");
  });

  it("adds the words of a reason (another code) after its own", () => {
    const m = { code: "not_retryable", params: { reason: "archive_invalid" } };
    expect(messageText(en, m)).toBe("A retry cannot help this import. The archive is damaged or is not a ZIP file.");
    expect(messageText(itT, m)).toBe("Ripetere non serve per questa importazione. L'archivio è danneggiato o non è un file ZIP.");
  });

  it("words the stage and the several studies that failed", () => {
    const m = { code: "studies_failed", params: { failed: 2, total: 3, finished: 1, stage: "store", reason: "pacs_unreachable" } };
    expect(messageText(en, m)).toBe("2 of 3 studies did not finish. Step: Send to PACS. The PACS could not be reached.");
    expect(messageText(fr, m)).toBe("2 études sur 3 n'ont pas abouti. Étape : Envoi au PACS. Le PACS est injoignable.");
  });

  it("words an object that cannot be converted for the PACS, and the studies around it", () => {
    const one = { code: "cannot_convert", params: { count: 1, total: 1, syntax: "JPEG 2000" } };
    expect(messageText(en, one)).toBe(
      "1 image cannot be converted to a format the PACS accepts (JPEG 2000): it was not sent, and its files are kept for the PACS administrator.",
    );
    expect(messageText(itT, one)).toBe(
      "1 immagine non può essere convertita in un formato accettato dal PACS (JPEG 2000): non è stata inviata e i suoi file restano sul server per l'amministratore del PACS.",
    );
    const several = { code: "studies_failed", params: { failed: 1, total: 3, finished: 2, stage: "store", reason: "cannot_convert", count: 2, syntax: "JPEG-LS" } };
    expect(messageText(fr, several)).toBe(
      "1 étude sur 3 n'a pas abouti. Étape : Envoi au PACS. 2 images ne peuvent pas être converties dans un format accepté par le PACS (JPEG-LS) : elles n'ont pas été envoyées et leurs fichiers sont conservés pour l'administrateur du PACS.",
    );
  });

  it("words objects of a kind the PACS does not accept at all, in every language", () => {
    expect(isKnownCode("sop_class_not_accepted")).toBe(true);
    const one = { code: "sop_class_not_accepted", params: { count: 1, total: 4 } };
    const two = { code: "sop_class_not_accepted", params: { count: 2, total: 4 } };
    const languages: [string, TFunction, string, string][] = [
      [
        "en",
        en,
        "1 image is of a kind the PACS does not accept: it was not sent, and its file is kept for the PACS administrator.",
        "2 images are of a kind the PACS does not accept: they were not sent, and their files are kept for the PACS administrator.",
      ],
      [
        "it",
        itT,
        "1 immagine è di un tipo che il PACS non accetta: non è stata inviata e il suo file resta sul server per l'amministratore del PACS.",
        "2 immagini sono di un tipo che il PACS non accetta: non sono state inviate e i loro file restano sul server per l'amministratore del PACS.",
      ],
      [
        "fr",
        fr,
        "1 image est d'un type que le PACS n'accepte pas : elle n'a pas été envoyée et son fichier est conservé pour l'administrateur du PACS.",
        "2 images sont d'un type que le PACS n'accepte pas : elles n'ont pas été envoyées et leurs fichiers sont conservés pour l'administrateur du PACS.",
      ],
    ];
    for (const [lng, t, ofOne, ofTwo] of languages) {
      expect(messageText(t, one), lng).toBe(ofOne);
      expect(messageText(t, two), lng).toBe(ofTwo);
    }
    // the reason of a failed import, after its own words
    const failed = { code: "studies_failed", params: { failed: 1, total: 1, finished: 0, stage: "store", reason: "sop_class_not_accepted", count: 1 } };
    expect(messageText(en, failed)).toBe(
      "1 of 1 studies did not finish. Step: Send to PACS. 1 image is of a kind the PACS does not accept: it was not sent, and its file is kept for the PACS administrator.",
    );
  });

  it("words identity_changed (a patient of this medium was filed before under another patient, which the comparison shown did not say) in every language", () => {
    expect(isKnownCode("identity_changed")).toBe(true);
    const m = { code: "identity_changed", params: {}, message: "The remembered identities changed." };
    expect(messageText(en, m)).toBe(
      "A patient of this medium has been filed before under another patient of the hospital, which the comparison shown did not say: nothing was filed, and the new comparison is now shown. Check it, then confirm again.",
    );
    expect(messageText(itT, m)).toBe(
      "Un paziente di questo supporto è stato archiviato in precedenza sotto un altro paziente dell'ospedale, cosa che il confronto mostrato non indicava: non è stato archiviato nulla e ora è mostrato il nuovo confronto. Verificalo, poi conferma di nuovo.",
    );
    expect(messageText(fr, m)).toBe(
      "Un patient de ce support a été classé auparavant sous un autre patient de l'hôpital, ce que la comparaison affichée ne disait pas : rien n'a été classé, et la nouvelle comparaison est maintenant affichée. Vérifiez-la, puis confirmez de nouveau.",
    );
  });

  it("words an import status param", () => {
    expect(messageText(itT, { code: "not_cancellable", params: { status: "completed" } })).toBe(
      `Questa importazione non può più essere annullata (stato: ${itT("status.completed")}).`,
    );
  });

  it("adds what the store stage found on the PACS already and the support id", () => {
    expect(messageText(en, { code: "instances_stored", params: { count: 3, total: 5, already: 2, warnings: 0 } })).toBe(
      "3 of 5 images stored on the PACS. 2 were already on the PACS.",
    );
    const converted = { code: "instances_stored", params: { count: 4, total: 4, already: 0, warnings: 0, converted: 1, decoded_by: "gdcm-12bit 1" } };
    expect(messageText(en, converted)).toBe("4 of 4 images stored on the PACS. 1 was converted first to a format the PACS accepts.");
    expect(messageText(itT, converted)).toBe(
      "Studio archiviato: 4 immagini su 4 inviate al PACS. 1 è stata prima convertita in un formato accettato dal PACS.",
    );
    expect(messageText(fr, { ...converted, params: { ...converted.params, converted: 2 } })).toBe(
      "4 images sur 4 archivées sur le PACS. 2 ont d'abord été converties dans un format accepté par le PACS.",
    );
    expect(messageText(en, { code: "instances_already_on_pacs", params: { count: 0, total: 5, already: 5, warnings: 0 } })).toBe(
      "Every image was already on the PACS: nothing was sent again.",
    );
    expect(messageText(fr, { code: "internal_error", params: { support_id: "K7Q2" } })).toBe(
      "Une erreur inattendue s'est produite sur le serveur. Si le problème persiste, appelez l'assistance. Identifiant pour l'assistance : K7Q2.",
    );
  });

  it("an unknown code (a newer server) gives a generic sentence naming it, not the English", () => {
    const m = { code: "brand_new_code", params: { count: 2 }, message: "Something new happened." };
    expect(isKnownCode("brand_new_code")).toBe(false);
    expect(messageText(itT, m)).toContain("brand_new_code");
    expect(messageText(itT, m)).toMatch(/^Il server ha segnalato/);
    expect(messageText(itT, m)).not.toContain("Something new happened.");
    expect(messageText(en, { code: "instances_verified", params: { reason: "brand_new_code", count: 1 } })).toContain(
      "(code brand_new_code)",
    );
  });

  it("nothing to say without a code", () => {
    expect(messageText(en, { code: null, params: {}, message: "" })).toBe("");
  });
});

describe("study warnings and audit actions", () => {
  it("words a warning code, and names one it does not know", () => {
    expect(studyWarningText(fr, "STUDY_PATIENTS_DIFFER")).toBe("Les images de cette étude portent plus d'un patient.");
    expect(studyWarningText(itT, "STUDY_SOMETHING_NEW")).toContain("STUDY_SOMETHING_NEW");
  });

  it("words the remembered identities' actions in every language", () => {
    const actions = ["identity.recalled", "identity.remembered", "identity.forgotten"];
    expect(actions.map((a) => auditActionText(en, a))).toEqual([
      "Remembered identity used",
      "Identity remembered",
      "Remembered identity removed",
    ]);
    expect(actions.map((a) => auditActionText(itT, a))).toEqual([
      "Identità memorizzata utilizzata",
      "Identità memorizzata",
      "Identità memorizzata rimossa",
    ]);
    expect(actions.map((a) => auditActionText(fr, a))).toEqual([
      "Identité mémorisée utilisée",
      "Identité mémorisée",
      "Identité mémorisée supprimée",
    ]);
    expect(AUDIT_ACTIONS).toEqual(expect.arrayContaining(actions));
  });

  it("words an action with dots, and names one it does not know", () => {
    expect(auditActionText(itT, "import.created")).toBe("Richiesta creata");
    expect(auditActionText(fr, "stage.store")).toBe("Étape : envoi au PACS");
    expect(auditActionText(en, "import")).toBe("Other action (import)");
    expect(auditActionText(en, "thing.new")).toBe("Other action (thing.new)");
    expect(auditOutcomeText(fr, "failure")).toBe("Échec");
    expect(auditOutcomeText(fr, "partial")).toBe("partial");
  });
});
