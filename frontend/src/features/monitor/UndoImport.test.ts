/**
 * Undoing a wrong import (issue 16, point 2), rendered to HTML (no browser needed): the offer on
 * the monitoring page only for a referent and only while the server allows it (`undo_until`);
 * its dialog (labelled, no reason chosen before the referent chooses one, Confirm waiting for
 * it, Cancel emphasised, what happens and until when); the request sent with the reason chosen;
 * the undo's state in words (under way, failed with Try again, done with the way to the
 * temporary zone); the server's refusals worded from their codes; in the three languages.
 */
import i18n from "i18next";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { initReactI18next } from "react-i18next";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError, api, type ImportOut, type StudyOut, type UndoReason } from "../../api/client";
import { keys, undoImport } from "../../api/queries";
import { importOf, renderScreen, study, undoOf, type Role } from "../../api/testing";
import { formatDateTime } from "../../i18n/format";
import { messageText } from "../../i18n/message";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { MonitorPage } from "./MonitorPage";
import { UndoDialog, UndoForm, type UndoFormProps } from "./UndoImport";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});
afterEach(() => {
  vi.restoreAllMocks();
});


const UNTIL = "2024-06-04T10:05:00Z";
const REFERENT: Role[] = ["clinician", "temporary_zone"];

type Stage = StudyOut["stages"][number];
const stage = (name: Stage["name"]): Stage => ({
  name,
  status: "done",
  attempts_left: 3,
  code: null,
  message: "",
  params: {},
  updated_at: "2024-06-01T10:05:00Z",
});

/** ROSSI MARIO's study of 40 images, filed on the PACS for the order A1: the import completed. */
const completed = (extra: Partial<ImportOut> = {}): ImportOut =>
  importOf([study({ instance_count: 40, outcome: "done", stages: [stage("verify"), stage("store")] })], {
    status: "completed",
    badge: "success",
    undo_until: UNTIL,
    ...extra,
  });

/** The monitoring page of `imp` for a user of `roles`. */
const page = (imp: ImportOut, roles: Role[] = REFERENT) =>
  renderScreen("/imports/imp1", "/imports/:id", createElement(MonitorPage), { roles, data: [[keys.import(imp.id), imp]] });

/** `text` as React writes it in HTML (an apostrophe escaped). */
const html = (text: string) => text.replace(/'/g, "&#x27;");

/** The markup of the element `tag` whose opening tag matches `attrs`, up to its closing tag. */
function element(markup: string, tag: string, attrs: string): string {
  return new RegExp(`<${tag}[^>]*${attrs}[^>]*>(?:(?!</${tag}>).)*</${tag}>`, "s").exec(markup)?.[0] ?? "";
}

const noop = () => undefined;
const form = (props: Partial<UndoFormProps> = {}) =>
  renderToStaticMarkup(
    createElement(UndoForm, {
      reason: null,
      onReason: noop,
      until: "04/06/2024, 12:05:00",
      pending: false,
      error: null,
      onConfirm: noop,
      onCancel: noop,
      titleId: "t",
      bodyId: "b",
      ...props,
    }),
  );

describe("the offer to undo a completed import", () => {
  it("a referent, while the server allows it: a secondary button (its dialog opens on demand), until when", () => {
    const out = page(completed());
    const until = formatDateTime(UNTIL, "en-GB");
    expect(out).toMatch(
      /<button type="button" class="button button-secondary" aria-haspopup="dialog"><span aria-hidden="true">↩ <\/span>Undo this import<\/button>/,
    );
    expect(out).toContain(`Filed under the wrong patient or order? A referent may undo it until ${until}.`);
    expect(out).not.toContain('class="undo-dialog"');
  });

  it("its dialog: labelled by its title, described by what happens and until when", () => {
    const until = formatDateTime(UNTIL, "en-GB");
    const dialog = renderScreen("/", "/", createElement(UndoDialog, { id: "imp1", until, onClosed: noop }));
    const labelled = /<dialog class="undo-dialog" aria-labelledby="([^"]+)" aria-describedby="([^"]+)"/.exec(dialog);
    expect(labelled).not.toBeNull();
    expect(dialog).toContain(`<h2 id="${labelled![1]}">Undo this import?</h2>`);
    expect(dialog).toContain(
      `<p id="${labelled![2]}">The PACS takes back the images this import stored (the images it held before this import are kept), and the import goes to the temporary zone, to be filed under the right order; possible until ${until}.</p>`,
    );
  });

  it.each([
    ["a clerk without the referent's role", completed(), ["clinician"] as Role[]],
    ["the server does not allow it (undone, its period over, not on the PACS)", completed({ undo_until: null }), REFERENT],
  ])("%s: neither the button nor its dialog", (_, imp, roles) => {
    const out = page(imp, roles);
    expect(out).not.toContain("Undo this import");
    expect(out).not.toContain("undo-state");
  });
});

describe("the dialog", () => {
  it("asks why, none chosen: each reason a required radio, Confirm waits for one and says so", () => {
    const out = form();
    expect(out).toContain("<legend>Why is it wrong?</legend>");
    const radios = out.match(/<input[^>]*type="radio"[^>]*>/g) ?? [];
    expect(radios).toHaveLength(2);
    for (const radio of radios) {
      expect(radio).toContain('required=""');
      expect(radio).not.toContain("checked");
    }
    expect(out).toContain('value="patient_safety"');
    expect(out).toContain("<span>Wrong patient (patient safety)</span>");
    expect(out).toContain("<span>Right patient, wrong order (worklist entry)</span>");
    const hint = /<fieldset class="undo-reasons" aria-describedby="([^"]+)">/.exec(out);
    expect(out).toContain(`<p id="${hint?.[1]}" class="hint">Choose a reason before confirming.</p>`);
    expect(out).toMatch(/<button type="submit" class="button button-danger" disabled="">Undo the import<\/button>/);
  });

  it.each(["patient_safety", "wrong_worklist_entry"] as UndoReason[])("%s chosen: its radio checked, Confirm enabled", (reason) => {
    const out = form({ reason });
    const chosen = (out.match(/<input[^>]*>/g) ?? []).filter((input) => input.includes('checked=""'));
    expect(chosen).toHaveLength(1);
    expect(chosen[0]).toContain(`value="${reason}"`);
    expect(out.match(/checked=""/g)).toHaveLength(1);
    expect(out).toContain('<button type="submit" class="button button-danger">Undo the import</button>');
    expect(out).not.toContain("Choose a reason before confirming.");
  });

  it("Cancel is the emphasised button, first; while the request runs nothing can be changed", () => {
    const out = form({ reason: "patient_safety" });
    expect(out).toMatch(/<div class="actions"><button type="button" class="button button-primary">Cancel<\/button><button type="submit"/);
    const pending = form({ reason: "patient_safety", pending: true });
    expect(pending).toContain('<button type="submit" class="button button-danger" disabled="">Undoing…</button>');
    expect(pending.match(/<input[^>]*disabled=""/g)).toHaveLength(2);
  });

  it.each([
    ["undo_period_over", new ApiError(409, "undo_period_over", "English.", { hours: 72 }), "An import can be undone only in the first 72 h after it completed, while its files are kept."],
    ["undo_in_progress", new ApiError(409, "undo_in_progress", "English."), "This import is being undone already: wait for the PACS to answer."],
    ["undo_not_configured", new ApiError(409, "undo_not_configured", "English."), "This server is not set up to take imports back from the PACS."],
    [
      "not_undoable", new ApiError(409, "not_undoable", "English.", { status: "failed", zone: "pacs", undone: 0 }),
      "Only a completed import filed on the PACS, and not undone already, can be undone (state: Error).",
    ],
    [
      "undo_used_later", new ApiError(409, "undo_used_later", "English.", { count: 1, support_id: "SUP-9" }),
      "1 other import counts some of these images as its own (support id SUP-9): undo it or end it first.",
    ],
    ["role_required", new ApiError(403, "role_required", "English."), "Your role does not allow this."],
    [
      "undo_nothing_stored",
      new ApiError(409, "undo_nothing_stored", "English."),
      "This import stored no image on the PACS (every one was there before it): there is nothing to take back.",
    ],
  ])("a refusal (%s) is worded from its code, in the dialog", (_, error, words) => {
    const out = form({ reason: "patient_safety", error });
    expect(out).toContain('role="alert"');
    expect(out).toContain(words);
    expect(out).not.toContain("English.");
  });
});

describe("the request", () => {
  it("POST /imports/{id}/undo with the reason chosen", async () => {
    const post = vi
      .spyOn(api, "POST")
      .mockResolvedValue({ data: { id: "imp1", status: "completed" }, response: new Response(null, { status: 202 }) } as never);
    await expect(undoImport("imp1", "wrong_worklist_entry")).resolves.toEqual({ id: "imp1", status: "completed" });
    expect(post).toHaveBeenCalledWith("/api/v1/imports/{import_id}/undo", {
      params: { path: { import_id: "imp1" } },
      body: { reason: "wrong_worklist_entry" },
    });
  });

  it("a refusal is the API's error, with its code and params", async () => {
    const body = { error: { code: "undo_used_later", params: { count: 2, support_id: "SUP-9" }, message: "English." } };
    vi.spyOn(api, "POST").mockResolvedValue({ error: body, response: new Response(null, { status: 409 }) } as never);
    await expect(undoImport("imp1", "patient_safety")).rejects.toMatchObject({
      status: 409,
      code: "undo_used_later",
      params: { count: 2, support_id: "SUP-9" },
    });
  });
});

describe("the undo's state on the monitoring page", () => {
  it("asked for: being taken back, by whom and why; no offer meanwhile", () => {
    const undo = undoOf({ state: "requested", done_at: null, taken_back: 0 });
    const out = page(completed({ undo_until: null, undo }));
    expect(out).toContain('data-state="requested"');
    expect(out).toContain("Being taken back from the PACS…");
    expect(out).toContain(
      `Asked by Anna Verdi on ${formatDateTime(undo.requested_at, "en-GB")}: Right patient, wrong order (worklist entry).`,
    );
    expect(out).not.toContain("Undo this import");
    expect(out).not.toContain("Undone");
  });

  it("failed: the error worded from its code, the images left, and Try again for a referent", () => {
    const undo = undoOf({
      state: "failed",
      done_at: null,
      taken_back: 1,
      error: { code: "pacs_unreachable", params: { count: 39 }, message: "English." },
    });
    const out = page(completed({ undo }));
    const state = element(out, "div", 'data-state="failed"');
    expect(state).toContain("The undo did not finish");
    expect(state).toContain("The PACS could not be reached.");
    expect(state).toContain("39 images are still on the PACS.");
    expect(out).not.toContain("English.");
    expect(out).toContain('<button type="button" class="button button-secondary">Try again</button>');
    expect(out).toContain("Try again: only the images still on the PACS are asked for.");
    // asked again with the reason chosen before: no second dialog
    expect(out).not.toContain("Undo this import");
    // a clerk reads the failure, without Try again
    const clerk = page(completed({ undo }), ["clinician"]);
    expect(clerk).toContain("The PACS could not be reached.");
    expect(clerk).not.toContain("Try again");
  });

  it("done: when, by whom, how many images, where it is now, the way there; the Undone badge by the status", () => {
    const undo = undoOf();
    const out = page(completed({ zone: "temporary", undo_until: null, undo }));
    const state = element(out, "div", 'data-state="done"');
    expect(state).toContain("Undone from order A1: Right patient, wrong order (worklist entry)");
    expect(state).toContain(
      `Taken back from the PACS on ${formatDateTime(undo.done_at!, "en-GB")} by Anna Verdi: 40 images. It is in the temporary zone, to be filed under the right order.`,
    );
    expect(state).toContain('<a href="/temporary" data-discover="true">Open the temporary zone</a>');
    expect(element(out, "div", 'class="monitor-head"')).toMatch(/Completed<\/span><span class="badge badge-warning">.*Undone<\/span>/s);
    expect(out).not.toContain("Undo this import");
    // one image: the singular
    expect(page(completed({ zone: "temporary", undo_until: null, undo: undoOf({ taken_back: 1 }) }))).toContain(": 1 image. It is");
  });

  it("in Italian and in French", async () => {
    const done = completed({ zone: "temporary", undo_until: null, undo: undoOf() });
    const it = await inLanguage("it", () => page(done));
    expect(it).toContain(html("Ritirata dall'ordine A1: Paziente giusto, ordine sbagliato (voce di worklist errata)"));
    expect(it).toContain(`Ritirata dal PACS il ${formatDateTime(done.undo!.done_at!, "it")} da Anna Verdi: 40 immagini.`);
    expect(it).toContain("Apri la zona temporanea");
    const fr = await inLanguage("fr", () => page(completed()));
    expect(fr).toContain("Retirer cet import du PACS</button>");
    const dialog = await inLanguage("fr", () => renderScreen("/", "/", createElement(UndoDialog, { id: "imp1", until: "04/06/2024 12:05:00", onClosed: noop })));
    expect(dialog).toContain("Retirer cet import du PACS ?</h2>");
    expect(dialog).toContain("Mauvais patient (rejet pour la sécurité du patient)");
    expect(dialog).toContain("Bon patient, mauvais examen (entrée de worklist incorrecte)");
    expect(dialog).toContain('class="button button-primary">Annuler</button>');
    expect(dialog).toContain("possible jusqu&#x27;au 04/06/2024 12:05:00.");
  });
});

describe("the refusals' words in every language", () => {
  it.each([
    ["not_undoable", { status: "completed", zone: "temporary", undone: 1 }],
    ["undo_not_configured", {}],
    ["undo_period_over", { hours: 72 }],
    ["undo_in_progress", {}],
    ["undo_used_later", { count: 2, support_id: "SUP-9" }],
    ["undo_nothing_stored", {}],
  ])("%s", async (code, params) => {
    for (const lng of ["en", "it", "fr"]) {
      const text = await inLanguage(lng, () => messageText(i18n.t, { code, params }));
      expect(text, lng).not.toMatch(/\{\{|code undo|code not_undoable/);
      for (const value of Object.values(params).filter((v) => typeof v === "string" && v.startsWith("SUP")))
        expect(text, lng).toContain(value);
      if ("hours" in params) expect(text, lng).toContain("72 h");
      // the support id is in the sentence already: not said again after it
      expect(text.split("SUP-9").length, lng).toBeLessThanOrEqual(2);
    }
  });
});
