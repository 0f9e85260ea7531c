/**
 * How a study's objects reach the PACS, when not all of them go as they are (issue 17): the
 * images the PACS takes only converted (decompressed) first, and the objects that cannot reach
 * it at all, each named by its file on the medium. Warnings, never blockers: confirming sends the
 * others. The confirmation shows both before anything is sent (`StudyReach`, in every study
 * card); the import's progress shows the objects not sent, foreseen, then (`sent`) as the store
 * found them (`UnsentNotice`).
 */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { StudyOut } from "../api/client";
import { Notice } from "./Notice";

type Unsent = StudyOut["unsent"][number];
type ReachOf = Pick<StudyOut, "to_convert" | "unsent" | "unsent_count" | "instance_count" | "instances_on_pacs">;

/** The words of one object that cannot reach the PACS: its path, then why. */
function unsentKey(u: Unsent) {
  switch (u.reason) {
    case "cannot_convert":
      return u.syntax ? "confirm.study.unsent.cannotConvert" : "confirm.study.unsent.cannotConvertUnnamed";
    case "sop_class_not_accepted":
      return "confirm.study.unsent.notAccepted";
    default:
      // a reason a newer server gives: said plainly, the file still named
      return "confirm.study.unsent.unknownReason";
  }
}

/** The images the PACS takes only converted (decompressed) first; nothing when none or not known. */
export function ConversionNotice({ study }: { study: Pick<StudyOut, "to_convert"> }) {
  const { t } = useTranslation();
  const count = study.to_convert ?? 0;
  if (count <= 0) return null;
  return (
    <Notice tone="info">
      <p>{t("confirm.study.toConvert", { count })}</p>
    </Notice>
  );
}

/**
 * The objects of a study that cannot reach the PACS: how many, what that means for the study,
 * then each by its path (text, never markup; the server lists the first ones, the rest counted).
 */
export function UnsentNotice({
  study,
  sent = false,
}: {
  study: Pick<StudyOut, "unsent" | "unsent_count" | "instance_count" | "instances_on_pacs">;
  /** what the store found once it sent the study (`unsent_found`): said in the past ("were sent") */
  sent?: boolean;
}) {
  const { t } = useTranslation();
  const titleId = useId();
  const count = study.unsent_count;
  if (count <= 0) return null;
  const more = count - study.unsent.length;
  return (
    <Notice tone="warning" title={<span id={titleId}>{t("confirm.study.unsent.title", { count })}</span>}>
      <p>
        {/* every one it would send: instances the PACS held already are not sent */}
        {count >= study.instance_count - (study.instances_on_pacs ?? 0)
          ? t(sent ? "confirm.study.unsent.sentAll" : "confirm.study.unsent.bodyAll")
          : t(sent ? "confirm.study.unsent.sent" : "confirm.study.unsent.body", { count })}
      </p>
      {study.unsent.length ? (
        <ul className="unsent-list" aria-labelledby={titleId}>
          {study.unsent.map((u, i) => (
            <li key={`${i}|${u.path}`} data-reason={u.reason}>
              {t(unsentKey(u), { path: u.path, syntax: u.syntax })}
            </li>
          ))}
        </ul>
      ) : null}
      {more > 0 ? <p className="unsent-more">{t("confirm.study.unsent.more", { count: more })}</p> : null}
    </Notice>
  );
}

/** Both, as the confirmation shows them for a study that would be sent. */
export function StudyReach({ study }: { study: ReachOf }) {
  return (
    <>
      <ConversionNotice study={study} />
      <UnsentNotice study={study} />
    </>
  );
}
