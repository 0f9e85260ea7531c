import { useTranslation } from "react-i18next";
import type { OrderOut } from "../../api/client";
import { useImport } from "../../api/queries";
import { Notice } from "../../components/Notice";
import { PatientPanel } from "../../components/PatientPanel";
import { loadPending } from "../../upload/pending";
import { RequireSession } from "../RequireSession";
import { WorklistPlaceholder } from "../worklist/WorklistPlaceholder";
import { FilesChooser, FolderChooser, MethodTabs } from "./Choosers";
import { PreviousImports } from "./PreviousImports";
import { SendPanel } from "./SendPanel";
import { useSendFlow } from "./useSendFlow";

/** Tells the user to pick the same folder again when a transfer was cut by a reload. */
function ResumeNotice({ accession }: { accession: string }) {
  const { t } = useTranslation();
  const pending = loadPending();
  const match = pending && pending.accession === accession ? pending : null;
  const query = useImport(match?.importId ?? "", { enabled: match !== null });
  if (!match || query.data?.status !== "created") return null;
  return <Notice tone="warning">{t("send.resumeNotice")}</Notice>;
}

function OrderImport({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const flow = useSendFlow(order.accession_number);
  const busy = !["idle", "ready", "error"].includes(flow.phase.kind);
  return (
    <>
      <h1 className="visually-hidden">{t("app.title")}</h1>
      <PatientPanel order={order} />
      <PreviousImports exclude={flow.phase.kind === "waiting" ? flow.phase.importId : undefined} />
      <section className="card" aria-labelledby="method-title">
        <h2 id="method-title" className="card-title">
          {t("tabs.label")}
        </h2>
        <ResumeNotice accession={order.accession_number} />
        <MethodTabs
          folder={<FolderChooser onChoose={(f, l) => void flow.choose(f, l)} disabled={busy} />}
          files={<FilesChooser onChoose={(f, l) => void flow.choose(f, l)} disabled={busy} />}
        />
      </section>
      <SendPanel
        phase={flow.phase}
        onSend={() => void flow.send()}
        onReset={flow.reset}
        onRetryTransfer={() => void flow.retryTransfer()}
        canRetryTransfer={flow.canRetryTransfer}
      />
    </>
  );
}

export function ImportPage() {
  return (
    <RequireSession>
      {(session) => (session.order ? <OrderImport order={session.order} /> : <WorklistPlaceholder />)}
    </RequireSession>
  );
}
