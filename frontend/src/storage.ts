/**
 * A choice kept in this browser (`localStorage`), never failing: in a private window or with
 * storage refused, nothing is read and the choice lasts for the page only.
 */
export function readLocal(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function writeLocal(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}
