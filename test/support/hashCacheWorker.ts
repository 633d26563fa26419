// A second process for the content-hash cache tests: hashes argv[2] with the cache in argv[3]
// (racy window 0) and prints what it found as one JSON line.
import { computeContentHash } from "../../provider/upload/contentHash";
import { openHashCache } from "../../provider/upload/hashCache";

async function main(): Promise<void> {
  const [root, dir] = process.argv.slice(2);
  const warnings: string[] = [];
  const cache = openHashCache({ dir, racyWindowInMs: 0, onWarning: (m) => warnings.push(m) });
  const result = await computeContentHash(root, { cache, objectHash: true });
  process.stdout.write(
    `${JSON.stringify({
      hash: result.hash,
      objectHash: result.objectHash,
      md5s: result.files.map((f) => f.md5),
      fromCache: result.fromCache,
      warnings,
    })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
