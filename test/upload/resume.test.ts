import { expect } from "chai";
import {
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { uploadFiles, uploadRetryOptions } from "../../provider/upload/blobUpload";
import { computeContentHash } from "../../provider/upload/contentHash";
import { isBlobUploadError } from "../../provider/upload/errors";
import { formatUploadProgress } from "../../provider/upload/plan";
import { resolveSettings } from "../../provider/core/settings";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import type { RequestRecord } from "../../emulator/requestLog";
import { getEmulator } from "../support/emulator";

const WORKER = path.resolve(__dirname, "../support/uploadWorker.js");
const MiB = 1024 * 1024;

/** A container from `startPendingUpload`, addressed without its SAS (the account key is used). */
async function freshContainer(name: string): Promise<string> {
  const { info } = getEmulator();
  const dispatcher = new Agent({ connect: { ca: await fs.readFile(info.caCertPath, "utf8") } });
  try {
    const response = await request(
      `${info.armEndpoint}${info.workspaceId}/codes/${name}/versions/1/startPendingUpload?api-version=2024-04-01`,
      {
        method: "POST",
        dispatcher,
        headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
        body: JSON.stringify({ pendingUploadType: "TemporaryBlobReference" }),
      },
    );
    const body = (await response.body.json()) as {
      blobReferenceForConsumption: { credential: { sasUri: string } };
    };
    return body.blobReferenceForConsumption.credential.sasUri.split("?")[0];
  } finally {
    await dispatcher.close();
  }
}

async function containerClient(containerUrl: string): Promise<ContainerClient> {
  const { info } = getEmulator();
  const ca = await fs.readFile(info.caCertPath, "utf8");
  const options = { tlsOptions: { ca } } as StoragePipelineOptions;
  return new ContainerClient(
    containerUrl,
    newPipeline(
      new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
      options,
    ),
  );
}

/** Bytes of file data the front door received (blobs and blocks; completed ones only, when asked). */
function putBytes(records: readonly RequestRecord[], completedOnly = false): number {
  return records
    .filter((r) => r.plane === "blob" && r.method === "PUT")
    .filter((r) => !/(^|&)comp=(blocklist|metadata)(&|$)/.test(r.query)) // data, not commits
    .filter((r) => !completedOnly || (r.status >= 200 && r.status < 300))
    .reduce((sum, r) => sum + (r.requestBytes ?? 0), 0);
}

describe("resumable blob uploads @emulator", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-resume-"));
  });
  afterEach(async () => {
    getEmulator().faults.clear();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@emulator an upload killed half way resumes without re-sending what was complete", async function () {
    this.timeout(120_000);
    const { info, faults, requests } = getEmulator();
    const root = path.join(tmp, "data");
    await fs.mkdir(root);
    const big = randomBytes(12 * MiB); // 24 blocks of 512 KiB
    await fs.writeFile(path.join(root, "big.bin"), big);
    for (let i = 0; i < 8; i++) {
      await fs.writeFile(path.join(root, `small-${i}.bin`), randomBytes(64 * 1024));
    }
    const total = 12 * MiB + 8 * 64 * 1024;
    const containerUrl = await freshContainer("resume-kill");
    const prefix = "LocalUpload/resume/data/";
    // Slow every blob request down so the kill lands in the middle.
    faults.add({ kind: "latency", latencyInMs: 150, plane: "blob", method: "PUT", rate: 1 });

    const first = requests.mark();
    const child = spawn(
      process.execPath,
      [WORKER, root, containerUrl, prefix, info.storageAccountName, info.caCertPath],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    let lines = "";
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    child.stdout.on("data", (chunk: Buffer) => {
      lines += chunk.toString();
      for (const line of lines.split("\n").slice(0, -1)) {
        const progress = JSON.parse(line) as { loadedBytes?: number };
        if ((progress.loadedBytes ?? 0) >= total * 0.4) {
          child.kill("SIGKILL");
        }
      }
      lines = lines.slice(lines.lastIndexOf("\n") + 1);
    });
    expect(await exited, `the worker was killed, not finished (${stderr})`).to.equal("SIGKILL");
    faults.clear();
    const firstRun = requests.since(first);
    const completed = putBytes(firstRun, true);
    expect(completed, "part of the upload completed before the kill").to.be.within(1, total - 1);

    const second = requests.mark();
    const hashed = await computeContentHash(root);
    const result = await uploadFiles(
      {
        containerUrl,
        credential: new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
        prefix,
      },
      hashed.files,
      {
        caCertPath: info.caCertPath,
        concurrency: 2,
        singleShotLimitInBytes: MiB,
        blockSizeInBytes: 512 * 1024,
      },
    );
    const resent = putBytes(requests.since(second));
    expect(resent, "bytes sent again").to.be.at.most(total - completed);
    expect(result.skippedByteCount).to.be.at.least(completed);
    const container = await containerClient(containerUrl);
    const downloaded = await container.getBlobClient(`${prefix}big.bin`).downloadToBuffer();
    expect(downloaded.equals(big), "the resumed blob holds the file").to.equal(true);
    const properties = await container.getBlobClient(`${prefix}big.bin`).getProperties();
    expect(Buffer.from(properties.contentMD5 ?? []).toString("base64")).to.equal(
      hashed.files.find((f) => f.relativePath === "big.bin")?.md5,
    );

    // A third run finds every blob complete and sends nothing.
    const third = requests.mark();
    const again = await uploadFiles(
      {
        containerUrl,
        credential: new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
        prefix,
      },
      hashed.files,
      { caCertPath: info.caCertPath, singleShotLimitInBytes: MiB, blockSizeInBytes: 512 * 1024 },
    );
    expect(putBytes(requests.since(third))).to.equal(0);
    expect(again).to.include({ skippedBlobCount: 9, skippedByteCount: total });
  });

  it("@emulator a file changed after it was hashed is not committed", async () => {
    const { info } = getEmulator();
    const root = path.join(tmp, "moving");
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, "big.bin"), randomBytes(2 * MiB));
    const hashed = await computeContentHash(root);
    await fs.writeFile(path.join(root, "big.bin"), randomBytes(2 * MiB)); // same size, new bytes
    const containerUrl = await freshContainer("resume-changed");
    const error = await uploadFiles(
      {
        containerUrl,
        credential: new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
        prefix: "moving/",
      },
      hashed.files,
      { caCertPath: info.caCertPath, singleShotLimitInBytes: MiB, blockSizeInBytes: 512 * 1024 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBlobUploadError(error), String(error)).to.equal(true);
    expect((error as Error).message).to.match(/changed since it was hashed/);
    const container = await containerClient(containerUrl);
    expect(await container.getBlobClient("moving/big.bin").exists()).to.equal(false);
  });

  it("@emulator blob requests are tried maxRetries + 1 times, as the provider's settings say", async () => {
    const { info, faults, requests } = getEmulator();
    const root = path.join(tmp, "retry");
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, "a.txt"), "retry me");
    const hashed = await computeContentHash(root);
    const containerUrl = await freshContainer("resume-retries");
    const settings = resolveSettings(undefined, {
      AZUREML_MAX_RETRIES: "2",
      AZUREML_RETRY_DELAY_IN_MS: "1",
      AZUREML_MAX_RETRY_DELAY_IN_MS: "5",
    });
    const target = {
      containerUrl,
      credential: new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
      prefix: "retry/",
    };
    const options = { caCertPath: info.caCertPath, retryOptions: uploadRetryOptions(settings) };
    const attempts = (since: number) =>
      requests
        .since(since)
        .filter((r) => r.plane === "blob" && r.method === "PUT" && r.path.endsWith("/retry/a.txt"))
        .length;

    faults.add({
      kind: "status",
      status: 503,
      plane: "blob",
      method: "PUT",
      path: "/retry/a.txt",
      times: 10,
    });
    const failing = requests.mark();
    const error = await uploadFiles(target, hashed.files, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBlobUploadError(error), String(error)).to.equal(true);
    expect(attempts(failing), "1 try + 2 retries").to.equal(3);

    faults.clear();
    faults.add({
      kind: "status",
      status: 503,
      plane: "blob",
      method: "PUT",
      path: "/retry/a.txt",
      times: 2,
    });
    const passing = requests.mark();
    const result = await uploadFiles(target, hashed.files, options);
    expect(result.blobCount).to.equal(1);
    expect(attempts(passing)).to.equal(3);
  });

  it("@unit the retry settings map onto the storage client's, and progress reads as bytes and rate", () => {
    expect(
      uploadRetryOptions({
        maxRetries: 3,
        retryDelayInMs: 800,
        maxRetryDelayInMs: 60_000,
        requestTimeoutInMs: 60_000,
      }),
    ).to.deep.equal({
      maxTries: 4,
      retryDelayInMs: 800,
      maxRetryDelayInMs: 60_000,
      tryTimeoutInMs: 60_000,
    });
    expect(
      formatUploadProgress(
        { loadedBytes: 1_200_000_000, totalBytes: 2_000_000_000, skippedBytes: 400_000_000 },
        10_000,
      ),
    ).to.equal("1.2 GB of 2.0 GB (60%), 80.0 MB/s, 400.0 MB already there");
  });
});
