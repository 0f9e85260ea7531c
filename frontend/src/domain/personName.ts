/**
 * A DICOM Person Name (PN) for the screen: `FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX`, up to three
 * `=`-separated groups (alphabetic, ideographic, phonetic). Shown as "PREFIX FAMILY Given Middle,
 * SUFFIX" with the ideographic form after it; case is kept as written (it matters when checking
 * an identity).
 */
export function formatPersonName(value: string | null | undefined): string {
  const raw = (value ?? "").trim();
  if (!raw) return "";
  const groups = raw.split("=").map(formatGroup);
  const [first, ...rest] = groups.filter((g) => g !== "");
  if (!first) return "";
  const others = rest.filter((g) => g !== first);
  return others.length ? `${first} (${others.join(", ")})` : first;
}

function formatGroup(group: string): string {
  if (!group.includes("^")) return group.trim().replace(/\s+/g, " ");
  const [family = "", given = "", middle = "", prefix = "", suffix = ""] = group
    .split("^")
    .map((p) => p.trim().replace(/\s+/g, " "));
  const main = [prefix, family, given, middle].filter(Boolean).join(" ");
  return suffix ? `${main}, ${suffix}` : main;
}
