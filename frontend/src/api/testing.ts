/**
 * For tests: the server's objects (a study, an import) with plain defaults each test overrides
 * with what it is about, and a screen rendered to HTML over them (no browser, no server).
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement, type ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import type { DocumentOut, FiledBeforeOut, ImportOut, ImportSummary, OrderOut, RememberedOut, SessionContext, StudyOut, TemporaryItem, UndoOut } from "./client";
import { keys } from "./queries";

export const ROSSI = { name: "ROSSI^MARIO", id: "HOSP-0042", issuer: "HOSPITAL", birth_date: "19740101", sex: "M" };
export const MATCH = { overall: "match", fields: { name: "match", birth_date: "match", sex: "match" }, reasons: [] } as const;

/** ROSSI MARIO's order ACC-1 (a CT), as the RIS sent it and a session names it. `extra` says otherwise. */
export function orderOf(extra: Partial<OrderOut> = {}): OrderOut {
  return {
    kind: "order",
    accession_number: "ACC-1",
    modality: "CT",
    order_id: "O1",
    patient: ROSSI,
    procedure: { code: "P", description: "TC", scheme: "LOCAL" },
    requested_procedure_id: "RP1",
    scheduled_at: null,
    scheduled_procedure_step_id: "SPS1",
    ...extra,
  };
}

/** The server's key of ROSSI MARIO launched for without an order (never an accession number to show). */
export const PATIENT_KEY = "~ABCDEFGHIJKLMNO";

/**
 * ROSSI MARIO, whom the RIS launched an import for without an order: a session's order of kind
 * `patient`, its accession number the server's key of the patient, nothing else of an order.
 */
export function patientLaunchOf(extra: Partial<OrderOut> = {}): OrderOut {
  return orderOf({
    kind: "patient",
    accession_number: PATIENT_KEY,
    modality: "",
    order_id: "",
    procedure: { code: "", description: "", scheme: "" },
    requested_procedure_id: "",
    scheduled_procedure_step_id: "",
    ...extra,
  });
}

/** The hospital's ROSSI MARIO, as the server remembers a local patient. */
export const LOCAL_ROSSI = { id: "HOSP-0042", issuer: "HOSPITAL", name: "ROSSI^MARIO", birth_date: "19740101" };
/** Another patient of the hospital. */
export const LOCAL_BIANCHI = { id: "HOSP-0777", issuer: "HOSPITAL", name: "BIANCHI^LUCA", birth_date: "19700303" };

/**
 * The medium's patient was filed before under the order's patient (ROSSI MARIO) on 5 December
 * 2026 by Giulia Bianchi; `extra` says otherwise (`{ patient: LOCAL_BIANCHI, same: false }`).
 */
export function filedBefore(extra: Partial<FiledBeforeOut> = {}): FiledBeforeOut {
  return { patient: LOCAL_ROSSI, at: "2026-12-05T12:00:00Z", by: "Giulia Bianchi", same: true, ...extra };
}

/**
 * A remembered identity: ROSSI MARIO of the medium written by the Ospedale Esterno (no issuer),
 * filed under the hospital's ROSSI MARIO by Giulia Bianchi with the import SUP-1.
 */
export function remembered(extra: Partial<RememberedOut> = {}): RememberedOut {
  return {
    id: "m1",
    outside: { issuer: "", institution: "Ospedale Esterno", id: "EXT-9", name: "ROSSI^MARIO", birth_date: "19740101" },
    local: LOCAL_ROSSI,
    filed_at: "2026-12-05T12:00:00Z",
    filed_by: "Giulia Bianchi",
    support_id: "SUP-1",
    ...extra,
  };
}

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
    documents: [],
    support_id: "SUP-1",
    updated_at: "2024-06-01T10:00:00Z",
    upload: { received: 1, size: 1 },
    zone: "pacs",
    undo_until: null,
    undo: null,
    ...extra,
  };
}

/**
 * An undo done: a referent (Anna Verdi) took the import back from the order A1 on 2 June 2024,
 * the right patient's wrong order; the PACS took back its 40 images. `extra` says otherwise
 * (`{ state: "requested", done_at: null, taken_back: 0 }`).
 */
/** The outside report of the disc (a 3-page PDF), not filed yet. */
export function documentOf(extra: Partial<DocumentOut> = {}): DocumentOut {
  return {
    id: "d-pdf",
    path: "REPORT/REFERTO.PDF",
    kind: "pdf",
    size: 48_200,
    pages: 3,
    width: null,
    height: null,
    preview: true,
    pacs_accepts: true,
    study_instance_uid: null,
    outcome: "not_selected",
    ...extra,
  };
}

export function undoOf(extra: Partial<UndoOut> = {}): UndoOut {
  return {
    state: "done",
    reason: "wrong_worklist_entry",
    requested_at: "2024-06-02T09:00:00Z",
    requested_by_name: "Anna Verdi",
    accession_number: "A1",
    done_at: "2024-06-02T09:01:00Z",
    taken_back: 40,
    error: null,
    ...extra,
  };
}

/** The import "imp1" as the previous imports list it: completed into the PACS for the order A1. */
export function summaryOf(extra: Partial<ImportSummary> = {}): ImportSummary {
  return {
    id: "imp1",
    support_id: "SUP-1",
    accession_number: "A1",
    badge: "success",
    created_at: "2024-06-01T10:00:00Z",
    created_by: "tech01",
    created_by_name: "Giulia",
    descriptions: ["TC TORACE"],
    error: null,
    status: "completed",
    study_instance_uids: ["1.2.3"],
    updated_at: "2024-06-01T10:05:00Z",
    zone: "pacs",
    undo: null,
    ...extra,
  };
}

/** The import "imp1" as the temporary zone lists it: ROSSI MARIO's study kept, completed, a day old. */
export function temporaryItem(extra: Partial<TemporaryItem> = {}): TemporaryItem {
  const s = study();
  return {
    id: "imp1",
    support_id: "SUP-1",
    age_days: 1,
    badge: "success",
    created_at: "2024-06-01T10:00:00Z",
    created_by: "tech01",
    created_by_name: "Giulia",
    past_review: false,
    size: 1000,
    status: "completed",
    studies: [
      {
        study_instance_uid: s.study_instance_uid,
        description: s.description,
        date: s.date,
        instance_count: s.instance_count,
        modalities: s.modalities,
        patient: s.patient,
        series: [],
        series_count: s.series_count,
      },
    ],
    undo: null,
    ...extra,
  };
}

export type Role = SessionContext["user"]["roles"][number];

/** What a screen is rendered with besides its route: the session and the answers already fetched. */
export interface ScreenOptions {
  /** the session user's roles (a clinician's by default) */
  roles?: Role[];
  /** the order the session was launched with */
  order?: OrderOut | null;
  /** answers already fetched: each query key with its data */
  data?: [readonly unknown[], unknown][];
  /** the location's state, as another screen hands it over (`navigate(…, { state })`) */
  state?: unknown;
}

/**
 * The screen `element` at `path` (under the route `routePath`), rendered to HTML for a session
 * with `options.roles` (a clinician's by default), the answers `options.data` already fetched.
 */
export function renderScreen(path: string, routePath: string, element: ReactElement, options: ScreenOptions = {}): string {
  const { roles = ["clinician"], order = null, data = [], state = null } = options;
  vi.stubGlobal("sessionStorage", { getItem: () => JSON.stringify({ token: "tok", expiresAt: "2999-01-01T00:00:00Z" }) });
  const client = new QueryClient();
  const session: SessionContext = { expires_at: "2999-01-01T00:00:00Z", order, user: { department: "R", id: "u", name: "U", roles } };
  for (const [key, value] of data) client.setQueryData(key, value);
  client.setQueryData([...keys.session, "tok"], session);
  try {
    return renderToStaticMarkup(
      createElement(
        QueryClientProvider,
        { client },
        createElement(
          MemoryRouter,
          { initialEntries: [{ pathname: path, state }] },
          createElement(Routes, null, createElement(Route, { path: routePath, element })),
        ),
      ),
    );
  } finally {
    vi.unstubAllGlobals();
  }
}

/**
 * The screen `element` at `path` (under the route `routePath`), rendered to HTML for a clinician's
 * session launched with `order`, the import `importOut` already fetched.
 */
export function renderPage(path: string, routePath: string, element: ReactElement, importOut: ImportOut, order: OrderOut | null = null, state: unknown = null): string {
  return renderScreen(path, routePath, element, { order, data: [[keys.import(importOut.id), importOut]], state });
}
