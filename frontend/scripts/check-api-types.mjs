// Fails when src/api/schema.d.ts is not what openapi-typescript makes of ../openapi/openapi.json.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "api-types-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync(join("node_modules", ".bin", "openapi-typescript"), ["../openapi/openapi.json", "-o", fresh], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (readFileSync(fresh, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
    console.error("src/api/schema.d.ts is out of date: run 'npm run api:generate'");
    process.exit(1);
  }
  console.log("src/api/schema.d.ts matches openapi/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
