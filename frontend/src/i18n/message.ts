/**
 * What the server reports as a code with params (an API error, an import's error, a stage's
 * note, a skipped file), worded in the user's language from the catalogs (`messages/*`). The
 * English `message` next to a code is for integrators and logs: it is never shown.
 *
 * - `count` drives the plural (`_one`/`_other`);
 * - `reason` holds another code: its words follow the message's own, with the params that are
 *   not the studies' (`studies_failed` gives its reason's params beside its own);
 * - `stage` holds a step: worded with `stage.<name>`; `status` an import's status, when it is
 *   one: worded with `status.<name>`;
 * - a param the text does not use and `msgPart` words (`already`, `warnings`, `converted`,
 *   `left_alone`, `stage`, `support_id`) is added after it;
 * - a code this version does not know (a newer server) gives a generic sentence naming it.
 */
import type { TFunction } from "i18next";
import type { MessageParams } from "../api/client";
import en from "./en";

export type { MessageParams };

/** A code with its params, as the API gives them (`message`, the English, is ignored). */
export interface ServerMessage {
  code: string | null | undefined;
  params?: MessageParams | null | undefined;
  message?: string | null | undefined;
}

type Translate = (key: string, options?: Record<string, unknown>) => string;

const PLURAL = /_(zero|one|two|few|many|other)$/;
const CATALOG: Record<string, string> = en.msg;
const PARTS: Record<string, string> = en.msgPart;
/** Every code with words, and the English template(s) of each (to see which params they use). */
const TEMPLATES = new Map<string, string[]>();
for (const [key, text] of Object.entries(CATALOG)) {
  const code = key.replace(PLURAL, "");
  TEMPLATES.set(code, [...(TEMPLATES.get(code) ?? []), text]);
}
const PLURAL_CODES = new Set(Object.keys(CATALOG).filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, "")));
/** The params a `msgPart` words, in the order they are added. */
const PART_ORDER = ["already", "warnings", "converted", "left_alone", "stage", "support_id"] as const;
const UNRESOLVED = /\{\{\s*[\w.]+\s*\}\}/g;
const MAX_DEPTH = 3;

/** True when this version has words for `code`. */
export function isKnownCode(code: string): boolean {
  return TEMPLATES.has(code);
}

/** The param a code's plural follows when it is not `count` (`studies_failed`: the studies that
 * failed; its `count`, if any, is its reason's). */
const PLURAL_PARAM: Record<string, string> = { studies_failed: "failed" };
/** The params of `studies_failed` that are the studies', not its reason's. */
const STUDY_PARAMS = new Set(["failed", "total", "finished", "stage", "reason"]);

/** Params a code's words cover without a placeholder (nothing to add about them). */
const COVERED: Record<string, readonly string[]> = { instances_already_on_pacs: ["already"] };

function uses(code: string, param: string): boolean {
  if (COVERED[code]?.includes(param)) return true;
  return (TEMPLATES.get(code) ?? []).some((text) => text.includes(`{{${param}}}`));
}

function hasKey(group: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(group, key) && typeof group[key] === "string";
}

function numeric(value: string | number | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** `text` with any placeholder the server did not fill replaced by a dash. */
function tidy(tr: Translate, text: string): string {
  return text.replace(UNRESOLVED, tr("common.none"));
}

function render(tr: Translate, m: ServerMessage, depth: number): string {
  const code = m.code ?? "";
  if (!code) return "";
  if (!isKnownCode(code)) return tr("serverMessage.unknown", { code });
  const params: Record<string, unknown> = { ...(m.params ?? {}) };
  const stage = typeof params.stage === "string" ? params.stage : undefined;
  if (stage !== undefined && hasKey(en.stage, stage)) params.stage = tr(`stage.${stage}`);
  const status = typeof params.status === "string" ? params.status : undefined;
  if (status !== undefined && hasKey(en.status, status)) params.status = tr(`status.${status}`);
  const count = numeric(m.params?.[PLURAL_PARAM[code] ?? "count"]);
  let key = `msg.${code}`;
  if (count !== undefined) params.count = count;
  else if (PLURAL_CODES.has(code)) key = `msg.${code}_other`; // no count given: the dash shows
  const sentences = [tidy(tr, tr(key, params))];
  for (const name of PART_ORDER) {
    const value = params[name];
    if (value === undefined || value === "" || uses(code, name)) continue;
    const n = numeric(value as string | number);
    if (hasKey(PARTS, `${name}_other`)) {
      if (n !== undefined && n > 0) sentences.push(tr(`msgPart.${name}`, { count: n }));
    } else {
      sentences.push(tr(`msgPart.${name}`, { [name]: value }));
    }
  }
  const reason = m.params?.reason;
  if (typeof reason === "string" && reason !== code && !uses(code, "reason") && depth < MAX_DEPTH) {
    // the reason worded with its own params (the server puts them beside the studies')
    const own = Object.fromEntries(Object.entries(m.params ?? {}).filter(([name]) => !STUDY_PARAMS.has(name)));
    const why = render(tr, { code: reason, params: own }, depth + 1);
    if (why) sentences.push(why);
  }
  return sentences.join(" ");
}

/** The words of `m` in the language of `t`. */
export function messageText(t: TFunction, m: ServerMessage): string {
  return render(t as unknown as Translate, m, 0);
}

/** A study warning code (the medium's images disagree on the patient) in the language of `t`. */
export function studyWarningText(t: TFunction, code: string): string {
  const tr = t as unknown as Translate;
  return hasKey(en.studyWarning, code) ? tr(`studyWarning.${code}`) : tr("serverMessage.unknownWarning", { code });
}

function lookup(tree: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (node, part) =>
      node && typeof node === "object" && Object.hasOwn(node, part) ? (node as Record<string, unknown>)[part] : undefined,
    tree,
  );
}

function actionPaths(tree: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === "string" ? [`${prefix}${key}`] : actionPaths(value as Record<string, unknown>, `${prefix}${key}.`),
  );
}

/** Every audit action this version words (`import.created`…), for the trail's filter. */
export const AUDIT_ACTIONS: readonly string[] = actionPaths(en.auditAction).filter((a) => a !== "unknown");

/** True when this version has words for the audit action `action` (`import.created`…). */
export function isKnownAuditAction(action: string): boolean {
  return typeof lookup(en.auditAction, action.split(".")) === "string";
}

/** An audit event's action (`import.created`…) in the language of `t`. */
export function auditActionText(t: TFunction, action: string): string {
  const tr = t as unknown as Translate;
  return isKnownAuditAction(action) ? tr(`auditAction.${action}`) : tr("serverMessage.unknownAction", { action });
}

/** An audit event's outcome (`success`, `failure`) in the language of `t`, else as recorded. */
export function auditOutcomeText(t: TFunction, outcome: string): string {
  const tr = t as unknown as Translate;
  return hasKey(en.auditOutcome, outcome) ? tr(`auditOutcome.${outcome}`) : outcome;
}
