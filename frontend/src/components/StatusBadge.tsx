import { useTranslation } from "react-i18next";
import { statusPresentation } from "../domain/status";
import { Badge } from "./Badge";

export function StatusBadge({ status, badge, large }: { status: string; badge?: string | null; large?: boolean }) {
  const { t } = useTranslation();
  const p = statusPresentation(status, badge);
  return (
    <Badge tone={p.tone} icon={p.icon} large={large ?? false}>
      {t(`status.${p.label}`)}
    </Badge>
  );
}
