import type { ReactNode } from "react";

export type BadgeTone = "muted" | "warning" | "primary" | "success" | "danger" | "info";

/** A coloured badge that always carries words (and an icon): never colour alone. */
export function Badge({ tone, icon, children, large }: { tone: BadgeTone; icon?: string; children: ReactNode; large?: boolean }) {
  return (
    <span className={`badge badge-${tone}${large ? " badge-large" : ""}`}>
      {icon ? (
        <span className="badge-icon" aria-hidden="true">
          {icon}
        </span>
      ) : null}
      {children}
    </span>
  );
}
