import type { ReactNode } from "react";

/** A message box. `alert` ones are announced at once by screen readers. */
export function Notice({
  tone,
  title,
  children,
  role,
}: {
  tone: "info" | "warning" | "danger" | "success";
  title?: ReactNode;
  children?: ReactNode;
  role?: "alert" | "status";
}) {
  const icon = { info: "ℹ", warning: "⚠", danger: "⚠", success: "✓" }[tone];
  return (
    <div className={`notice notice-${tone}`} role={role}>
      <span className="notice-icon" aria-hidden="true">
        {icon}
      </span>
      <div>
        {title ? <p className="notice-title">{title}</p> : null}
        {children}
      </div>
    </div>
  );
}
