/**
 * Fixture folders with content no other test has registered. Code versions are found by content
 * hash across the whole workspace, so a test that expects an upload needs content of its own.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";

/** Copies `fixture` (repo-relative) to `destination` (or a new temp folder) and adds `nonce.txt`. */
export function uniqueCopy(fixture: string, destination?: string): string {
  const target =
    destination ??
    path.join(mkdtempSync(path.join(os.tmpdir(), "fixture-")), path.basename(fixture));
  cpSync(path.resolve(fixture), target, { recursive: true });
  writeFileSync(path.join(target, "nonce.txt"), `${randomUUID()}\n`);
  return target;
}
