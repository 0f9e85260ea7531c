import { describe, expect, it } from "vitest";
import { canOpen, statusPresentation } from "./status";

describe("status badges (seed colours, always with words)", () => {
  it.each([
    ["created", "muted", "muted", "created"],
    ["queued", "warning", "warning", "queued"],
    ["analyzing", "primary", "primary", "analyzing"],
    ["awaiting_confirmation", "primary", "primary", "awaiting_confirmation"],
    ["processing", "primary", "primary", "processing"],
    ["processing", "success", "success", "processingOk"],
    ["processing", "danger", "danger", "failed"],
    ["completed", "success", "success", "completed"],
    ["failed", "danger", "danger", "failed"],
    ["cancelled", "muted", "muted", "cancelled"],
    ["expired", "muted", "muted", "expired"],
  ])("%s with badge %s → %s %s", (status, badge, tone, label) => {
    const p = statusPresentation(status, badge);
    expect(p.tone).toBe(tone);
    expect(p.label).toBe(label);
    expect(p.icon).not.toBe("");
  });

  it("derives the colour from the status when the server sends none or an unknown one", () => {
    expect(statusPresentation("queued").tone).toBe("warning");
    expect(statusPresentation("failed", "purple").tone).toBe("danger");
    expect(statusPresentation("brand-new")).toMatchObject({ tone: "muted", label: "unknown" });
  });

  it("gives every tone its own icon, so colour is never the only signal", () => {
    const icons = ["muted", "warning", "primary", "success", "danger"].map(
      (b) => statusPresentation("processing", b).icon,
    );
    expect(new Set(icons).size).toBe(5);
  });

  it("offers Open once processing has started", () => {
    expect(canOpen("created")).toBe(false);
    expect(canOpen("queued")).toBe(true);
    expect(canOpen("completed")).toBe(true);
  });
});
