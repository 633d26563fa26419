// A process to kill half way through an upload (the resumable-upload tests): uploads the folder
// argv[2] to the container argv[3] under the prefix argv[4] with the emulator's account key, and
// prints each progress event as one JSON line.
import { StorageSharedKeyCredential } from "@azure/storage-blob";
import { uploadFiles } from "../../provider/upload/blobUpload";
import { computeContentHash } from "../../provider/upload/contentHash";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";

async function main(): Promise<void> {
  const [root, containerUrl, prefix, accountName, caCertPath] = process.argv.slice(2);
  const hashed = await computeContentHash(root);
  await uploadFiles(
    {
      containerUrl,
      credential: new StorageSharedKeyCredential(accountName, DEV_STORE_ACCOUNT_KEY),
      prefix,
    },
    hashed.files,
    {
      caCertPath,
      concurrency: 2,
      singleShotLimitInBytes: 1024 * 1024,
      blockSizeInBytes: 512 * 1024,
      onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`),
    },
  );
  process.stdout.write(`${JSON.stringify({ done: true })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
