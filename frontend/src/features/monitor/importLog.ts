/**
 * One line of an import's own log in the clerk's words: the action (`auditAction` catalogs) and
 * its details, each a short phrase (a code through `messageText`, a step through the stage
 * catalog, counts with their plural). The server sends only codes, counts and names of steps
 * (`LogDetails`): nothing here can show patient data.
 */
import type { TFunction } from "i18next";
import type { components } from "../../api/schema";
import { formatBytes } from "../../i18n/format";
import { messageText } from "../../i18n/message";

export type ImportLogEntry = components["schemas"]["ImportLogEntry"];
export type LogDetails = components["schemas"]["LogDetails"];

type Translate = (key: string, options?: Record<string, unknown>) => string;

const STAGE_ACTION = /^stage\./;

/** The phrases that word one log line's details, in the order a reader wants them. */
export function logDetailsText(t: TFunction, entry: { action: string; details: LogDetails }, locale: string): string[] {
  const tr = t as unknown as Translate;
  const d = entry.details;
  const out: string[] = [];
  const counted = (key: string, count: number | null | undefined) => {
    if (typeof count === "number") out.push(tr(`importLog.${key}`, { count }));
  };
  if (d.study != null) out.push(tr("importLog.study", { number: d.study }));
  // a step's own event names its step already (its action): only its new status is said
  if (d.stage && !STAGE_ACTION.test(entry.action)) out.push(tr("importLog.stage", { stage: tr(`stage.${d.stage}`) }));
  if (d.status) out.push(tr(`stageStatus.${d.status}`));
  if (d.code) out.push(messageText(t, { code: d.code, params: d.params ?? {} }));
  if (d.from_status) out.push(tr("importLog.fromStatus", { status: tr(`status.${d.from_status}`) }));
  if (d.mode) out.push(tr(`importLog.mode.${d.mode}`));
  if (d.zone) out.push(tr(`importLog.zone.${d.zone}`));
  if (d.identity) out.push(tr(`confirm.overall.${d.identity}`));
  if (d.acknowledged) out.push(tr("importLog.acknowledged"));
  // an undo's reason (its request, its end, its failure)
  if (d.undo_reason) out.push(tr(`undo.reason.${d.undo_reason}`));
  counted("files", d.files);
  counted("dicom", d.dicom);
  counted("skipped", d.skipped || null);
  counted("documents", d.documents || null);
  counted("series", d.series);
  counted("instances", d.instances);
  if (typeof d.size === "number") out.push(formatBytes(d.size, locale));
  // a retry counts the steps run again; any other event the studies it is about
  counted(entry.action === "import.retried" ? "steps" : "studies", d.count);
  counted("total", d.total);
  counted("alreadyPresent", d.already_present || null);
  if (typeof d.after_s === "number") out.push(tr("importLog.after", { minutes: Math.max(1, Math.round(d.after_s / 60)) }));
  return out;
}
