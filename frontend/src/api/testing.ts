/**
 * For tests: the server's objects (a study, an import) with plain defaults each test overrides
 * with what it is about, and a screen rendered to HTML over them (no browser, no server).
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement, type ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import type { ImportOut, OrderOut, SessionContext, StudyOut } from "./client";
import { keys } from "./queries";

export const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };
export const MATCH = { overall: "match", fields: { name: "match", birth_date: "match", sex: "match" }, reasons: [] } as const;

/**
 * A study of ROSSI MARIO from another hospital, as the analysis found it: compared with the order's
 * patient (ROSSI MARIO), who matches; not sent yet. `extra` says what a test is about.
 */
export function study(extra: Partial<StudyOut> = {}): StudyOut {
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
    to_convert: null,
    unsent: [],
    unsent_count: 0,
    unsent_found: false,
    warnings: [],
    order: null,
    selected: true,
    series: [],
    stages: [],
    ...extra,
  };
}

/** The import "imp1" of these studies, into the PACS zone, without an order, awaiting its confirmation. */
export function importOf(studies: StudyOut[], extra: Partial<ImportOut> = {}): ImportOut {
  return {
    id: "imp1",
    badge: "primary",
    created_at: "2024-06-01T10:00:00Z",
    created_by: "tech01",
    created_by_name: "Giulia",
    error: null,
    retryable: false,
    media: { dicom: 1, dicomdir: true, files: 1, non_dicom: 0, skipped: [], unreadable: 0 },
    order: null,
    status: "awaiting_confirmation",
    studies,
    support_id: "SUP-1",
    updated_at: "2024-06-01T10:00:00Z",
    upload: { received: 1, size: 1 },
    zone: "pacs",
    ...extra,
  };
}

/**
 * The screen `element` at `path` (under the route `routePath`), rendered to HTML for a clinician's
 * session launched with `order`, the import `importOut` already fetched.
 */
export function renderPage(path: string, routePath: string, element: ReactElement, importOut: ImportOut, order: OrderOut | null = null): string {
  vi.stubGlobal("sessionStorage", { getItem: () => JSON.stringify({ token: "tok", expiresAt: "2999-01-01T00:00:00Z" }) });
  const client = new QueryClient();
  const session: SessionContext = { expires_at: "2999-01-01T00:00:00Z", order, user: { department: "R", id: "u", name: "U", roles: ["clinician"] } };
  client.setQueryData(keys.import(importOut.id), importOut);
  client.setQueryData([...keys.session, "tok"], session);
  try {
    return renderToStaticMarkup(
      createElement(
        QueryClientProvider,
        { client },
        createElement(MemoryRouter, { initialEntries: [path] }, createElement(Routes, null, createElement(Route, { path: routePath, element }))),
      ),
    );
  } finally {
    vi.unstubAllGlobals();
  }
}
