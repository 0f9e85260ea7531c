/**
 * The remembered identities (issue 16), rendered to HTML (no browser needed): the referents'
 * page (its search, its table, the Remove button of each row, the empty list), only for the
 * role `temporary_zone`, and the link to it in the header.
 */
import i18n from "i18next";
import { createElement } from "react";
import { initReactI18next } from "react-i18next";
import { beforeAll, describe, expect, it } from "vitest";
import type { RememberedOut } from "../../api/client";
import { keys } from "../../api/queries";
import { LOCAL_BIANCHI, remembered, renderScreen, type Role } from "../../api/testing";
import { RoleLinks } from "../../components/Layout";
import { resources } from "../../i18n/resources";
import { inLanguage } from "../../i18n/testing";
import { authorityOf, IdentitiesPage, LIST_LIMIT } from "./IdentitiesPage";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "en", fallbackLng: "en", interpolation: { escapeValue: false } });
});


/** The page for a user of `roles`, the list (every identity, no search) already read. */
const page = (items: RememberedOut[] | undefined, roles: Role[] = ["temporary_zone"]) =>
  renderScreen("/identities", "/identities", createElement(IdentitiesPage), {
    roles,
    data: items ? [[keys.identities(""), items]] : [],
  });

/** A second identity: a medium with an issuer, filed under BIANCHI LUCA by another user. */
const BIANCHI = remembered({
  id: "m2",
  outside: { issuer: "ASL-ROMA", institution: "Ospedale di Roma", id: "ASL-77", name: "BIANCHI^LUCA", birth_date: "19700303" },
  local: LOCAL_BIANCHI,
  filed_by: "Paolo Verdi",
  support_id: "SUP-2",
});

const count = (out: string, text: string) => out.split(text).length - 1;

describe("the authority of a medium's Patient ID", () => {
  it.each([
    [{ issuer: "ASL-ROMA", institution: "Ospedale di Roma" }, { kind: "issuer", value: "ASL-ROMA" }],
    [{ issuer: "", institution: "Ospedale Esterno" }, { kind: "institution", value: "Ospedale Esterno" }],
    [{ issuer: " ", institution: "" }, null],
  ])("%j → %j", (outside, expected) => {
    expect(authorityOf(outside)).toEqual(expected);
  });
});

describe("the remembered identities page", () => {
  it("a referent: the heading, the labelled search, a table of every identity with a Remove button each", () => {
    const out = page([remembered(), BIANCHI]);
    expect(out).toContain('<h1 tabindex="-1">Remembered identities</h1>');
    // the search: a labelled field, sent with Enter (a form with its submit button)
    const search = /<form role="search"[^>]*>(?:(?!<\/form>).)*<\/form>/s.exec(out)?.[0] ?? "";
    const input = /<label for="([^"]+)">Search by Patient ID or name<\/label><input id="([^"]+)" type="search"/.exec(search);
    expect(input?.[1]).toBe(input?.[2]);
    expect(search).toContain('<button type="submit" class="button button-primary">Search</button>');
    // the table: its caption, its two header rows
    expect(out).toContain('<caption class="visually-hidden">Remembered identities, the last filed first</caption>');
    expect(out).toContain('<th scope="colgroup" colSpan="4">Patient on the medium</th>');
    expect(out).toContain('<th scope="colgroup" colSpan="2">Filed under (patient of the hospital)</th>');
    for (const header of ["Name", "Patient ID", "Issuer or institution", "Birth date", "Hospital ID", "When and by whom", "Support id", "Action"])
      expect(out).toContain(`>${header}</th>`);
    // one row each, the medium's patient naming it
    expect(count(out, "<tr data-identity=")).toBe(2);
    const first = /<tr data-identity="m1">(?:(?!<\/tr>).)*<\/tr>/s.exec(out)?.[0] ?? "";
    expect(first).toContain('<th scope="row">ROSSI MARIO</th>');
    expect(first).toContain('<td class="mono">EXT-9</td>');
    expect(first).toContain("<td>Institution: Ospedale Esterno</td>");
    expect(first).toContain("01/01/1974");
    expect(first).toContain('<td class="mono">HOSP-0042 (HOSPITAL)</td>');
    expect(first).toContain('<div class="hint">by Giulia Bianchi</div>');
    expect(first).toContain('<td class="mono">SUP-1</td>');
    expect(first).toContain(
      '<button type="button" class="button button-danger button-small" aria-haspopup="dialog" aria-label="Remove the remembered identity of ROSSI MARIO">Remove</button>',
    );
    const second = /<tr data-identity="m2">(?:(?!<\/tr>).)*<\/tr>/s.exec(out)?.[0] ?? "";
    expect(second).toContain("<td>Issuer: ASL-ROMA</td>");
    expect(second).toContain("<strong>BIANCHI LUCA</strong>");
    expect(second).toContain("by Paolo Verdi");
    // the confirmation dialog is there, closed and labelled by its title
    expect(out).toMatch(/<dialog aria-labelledby="([^"]+)"[^>]*><h2 id="\1">Remove this remembered identity\?<\/h2><\/dialog>/);
    expect(out).not.toContain("No identity is remembered yet.");
    expect(out).not.toContain("Only the last");
  });

  it("nothing remembered: says so, no table", () => {
    const out = page([]);
    expect(out).toContain("No identity is remembered yet.");
    expect(out).not.toContain("<table");
  });

  it("while the list is read: says so", () => {
    expect(page(undefined)).toContain('<p role="status">Loading…</p>');
  });

  it(`${LIST_LIMIT} listed: the older ones are found by a search`, () => {
    const many = Array.from({ length: LIST_LIMIT }, (_, i) => remembered({ id: `m${i}` }));
    expect(page(many)).toContain(`Only the last ${LIST_LIMIT} are listed: search to find an older one.`);
  });

  it.each([[["clinician"]], [["auditor"]]] as [Role[]][])("not a referent (%j): the role is refused, nothing listed", (roles) => {
    const out = page([remembered()], roles);
    expect(out).toContain("Your role does not allow this page.");
    expect(out).not.toContain("<table");
    expect(out).not.toContain("ROSSI MARIO");
  });

  it("in Italian and French", async () => {
    const languages: [string, string[]][] = [
      [
        "it",
        [
          "Identità memorizzate</h1>",
          "Cerca per ID paziente o per cognome e nome</label>",
          ">Paziente sul supporto</th>",
          ">Archiviato sotto (paziente dell&#x27;ospedale)</th>",
          ">ID Ospedale</th>",
          "<td>Struttura: Ospedale Esterno</td>",
          "<td>Emittente: ASL-ROMA</td>",
          "da Giulia Bianchi",
          'aria-label="Rimuovi l&#x27;identità memorizzata di ROSSI MARIO">Rimuovi</button>',
          "Rimuovere questa identità memorizzata?",
        ],
      ],
      [
        "fr",
        [
          "Identités mémorisées</h1>",
          "Rechercher par ID patient ou par nom et prénom</label>",
          ">Patient sur le support</th>",
          ">Classé sous (patient de l&#x27;hôpital)</th>",
          ">IPP</th>",
          "<td>Établissement : Ospedale Esterno</td>",
          "<td>Émetteur : ASL-ROMA</td>",
          "par Giulia Bianchi",
          'aria-label="Supprimer l&#x27;identité mémorisée de ROSSI MARIO">Supprimer</button>',
          "Supprimer cette identité mémorisée ?",
        ],
      ],
    ];
    for (const [lng, words] of languages) {
      const out = await inLanguage(lng, () => page([remembered(), BIANCHI]));
      for (const w of words) expect(out, lng).toContain(w);
    }
    expect(await inLanguage("it", () => page([]))).toContain("Nessuna identità memorizzata per ora.");
    expect(await inLanguage("fr", () => page([]))).toContain("Aucune identité n&#x27;est encore mémorisée.");
  });
});

describe("the link to the remembered identities", () => {
  const links = (roles: Role[]) => renderScreen("/", "/", createElement(RoleLinks), { roles });

  it("shown to the referents (role temporary_zone), beside the temporary zone", () => {
    const out = links(["temporary_zone"]);
    expect(out).toMatch(/<a href="\/temporary"[^>]*>Temporary zone<\/a><a href="\/identities"[^>]*>Remembered identities<\/a>/);
  });

  it.each([[["clinician"]], [["auditor"]], [["clinician", "auditor"]]] as [Role[]][])("not to %j", (roles) => {
    expect(links(roles)).not.toContain("/identities");
  });
});
