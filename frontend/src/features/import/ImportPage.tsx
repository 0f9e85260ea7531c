import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { OrderOut, Zone } from "../../api/client";
import { useImport } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { PatientPanel } from "../../components/PatientPanel";
import { isPatientLaunch } from "../../domain/patientLaunch";
import type { PendingUpload } from "../../upload/pending";
import { RequireSession } from "../RequireSession";
import { FilesChooser, FolderChooser, MethodTabs, useScreenDrop } from "./Choosers";
import { PreviousImports } from "./PreviousImports";
import { SendPanel } from "./SendPanel";
import { useSendFlow } from "./useSendFlow";

/**
 * Tells the user to pick the same folder again when an earlier page's transfer of this order was
 * cut (a reload, the tab reopened) and the server still waits for its bytes — never for the
 * transfer this page runs; gone once the resume starts. The user may cancel it instead.
 */
function ResumeNotice({ pending, onCancel }: { pending: PendingUpload | null; onCancel: () => void }) {
  const { t } = useTranslation();
  const query = useImport(pending?.importId ?? "", { enabled: pending !== null });
  if (!pending || query.data?.status !== "created") return null;
  return (
    <div data-testid="resume-notice">
      <Notice tone="warning">
        <p>{t("send.resumeNotice")}</p>
        <button type="button" className="button button-small button-secondary" onClick={onCancel}>
          {t("send.cancelInterrupted")}
        </button>
      </Notice>
    </div>
  );
}

/** The pending-upload keys of a session without an order (worklist mode, temporary zone). */
const WORKLIST_KEY = "";
const TEMPORARY_KEY = "~temporary";

/** For a referent without an order: the PACS (orders found in the worklist) or the temporary zone. */
function ZoneChoice({ zone, onChange, canPacs, disabled }: { zone: Zone; onChange: (z: Zone) => void; canPacs: boolean; disabled: boolean }) {
  const { t } = useTranslation();
  return (
    <fieldset className="zone-choice">
      <legend>{t("zone.legend")}</legend>
      {canPacs ? (
        <label className="check">
          <input type="radio" name="zone" value="pacs" checked={zone === "pacs"} disabled={disabled} onChange={() => onChange("pacs")} />
          <span>{t("zone.pacs")}</span>
        </label>
      ) : null}
      <label className="check">
        <input
          type="radio"
          name="zone"
          value="temporary"
          checked={zone === "temporary"}
          disabled={disabled}
          onChange={() => onChange("temporary")}
        />
        <span>{t("zone.temporary")}</span>
      </label>
      <p className="hint">{t("zone.temporaryHelp")}</p>
    </fieldset>
  );
}

function OrderImport({ order, roles }: { order: OrderOut | null; roles: string[] }) {
  const { t } = useTranslation();
  const canPacs = roles.includes("clinician");
  const canTemporary = order === null && roles.includes("temporary_zone");
  const [zone, setZone] = useState<Zone>(canPacs || !canTemporary ? "pacs" : "temporary");
  const accession = order?.accession_number ?? (zone === "temporary" ? TEMPORARY_KEY : WORKLIST_KEY);
  const flow = useSendFlow(accession, zone);
  const busy = !["idle", "ready", "error", "stopped"].includes(flow.phase.kind);
  const dragging = useScreenDrop((dropped) => void flow.choose(dropped.files, dropped.label), busy);
  return (
    <>
      {order ? (
        <>
          <h1 className="visually-hidden">{t("app.title")}</h1>
          <PatientPanel order={order} />
          <PreviousImports
            exclude={flow.importId ?? undefined}
            resumable={flow.interrupted?.importId}
            forPatient={isPatientLaunch(order)}
          />
        </>
      ) : (
        <section className="card">
          <h1>{zone === "temporary" ? t("zone.importTitle") : t("worklist.importTitle")}</h1>
          {canTemporary ? (
            <ZoneChoice zone={zone} onChange={setZone} canPacs={canPacs} disabled={busy} />
          ) : null}
          <p>{zone === "temporary" ? t("zone.importIntro") : t("worklist.importIntro")}</p>
        </section>
      )}
      <section className="card" aria-labelledby="method-title">
        <h2 id="method-title" className="card-title">
          {t("tabs.label")}
        </h2>
        <ResumeNotice pending={flow.interrupted} onCancel={() => void flow.cancelInterrupted()} />
        {dragging ? (
          <p className="dropzone is-over" role="status" data-testid="screen-drop">
            <span className="dropzone-text">{t("files.dropScreen")}</span>
          </p>
        ) : null}
        <MethodTabs
          folder={<FolderChooser onChoose={(f, l) => void flow.choose(f, l)} disabled={busy} />}
          files={<FilesChooser onChoose={(f, l) => void flow.choose(f, l)} disabled={busy} />}
        />
      </section>
      <SendPanel
        phase={flow.phase}
        onSend={() => void flow.send()}
        onStop={() => void flow.stop()}
        onReset={flow.reset}
        onRetryTransfer={() => void flow.retryTransfer()}
        canRetryTransfer={flow.canRetryTransfer}
      />
    </>
  );
}

/** A user whose roles do not import media (an auditor): say so, and where to go. */
function NoImportRole({ auditor }: { auditor: boolean }) {
  const { t } = useTranslation();
  return (
    <section className="card">
      <h1>{t("nav.noImportTitle")}</h1>
      <p>{t("nav.noImportBody")}</p>
      {auditor ? (
        <p>
          <Link to="/audit">{t("nav.audit")}</Link>
        </p>
      ) : null}
    </section>
  );
}

export function ImportPage() {
  return (
    <RequireSession>
      {(session) =>
        session.user.roles.includes("clinician") || session.user.roles.includes("temporary_zone") ? (
          <OrderImport order={session.order} roles={session.user.roles} />
        ) : (
          <NoImportRole auditor={session.user.roles.includes("auditor")} />
        )
      }
    </RequireSession>
  );
}
