/**
 * Fixture folders with content no other test has registered. Code versions are found by content
 * hash across the whole workspace, so a test that expects an upload needs content of its own.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";

const temporaryFolders: string[] = [];
process.once("exit", () => {
  for (const folder of temporaryFolders) {
    rmSync(folder, { recursive: true, force: true });
  }
});

/**
 * Copies `fixture` (repo-relative) to `destination` (or a new temp folder, removed when the test
 * process exits) and adds `nonce.txt`.
 */
export function uniqueCopy(fixture: string, destination?: string): string {
  let target = destination;
  if (target === undefined) {
    const folder = mkdtempSync(path.join(os.tmpdir(), "fixture-"));
    temporaryFolders.push(folder);
    target = path.join(folder, path.basename(fixture));
  }
  cpSync(path.resolve(fixture), target, { recursive: true });
  writeFileSync(path.join(target, "nonce.txt"), `${randomUUID()}\n`);
  return target;
}
