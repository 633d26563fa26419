import { expect } from "chai";
import {
  AnonymousCredential,
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { readBlobMetadata, uploadFiles } from "../../provider/upload/blobUpload";
import { computeContentHash, computeObjectHash } from "../../provider/upload/contentHash";
import { isBlobUploadError } from "../../provider/upload/errors";
import { loadIgnoreRules } from "../../provider/upload/ignore";
import {
  blobNamesForPendingUpload,
  indicatorBlob,
  indicatorMetadata,
  legacyBlobNames,
  uploadPrefixFor,
} from "../../provider/upload/plan";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import { getEmulator } from "../support/emulator";

const VECTOR_ROOT = path.resolve(__dirname, "../../../test/fixtures/code-hash-vectors/src");
const API_VERSION = "2024-04-01";

interface PendingUpload {
  sasUri: string;
  blobUri: string;
}

/** `POST …/codes/{name}/versions/{version}/startPendingUpload`, as the SDK sends it. */
async function startPendingUpload(name: string, version = "1"): Promise<PendingUpload> {
  const { info } = getEmulator();
  const ca = await fs.readFile(info.caCertPath, "utf8");
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const url =
      `${info.armEndpoint}${info.workspaceId}/codes/${name}/versions/${version}` +
      `/startPendingUpload?api-version=${API_VERSION}`;
    const response = await request(url, {
      method: "POST",
      dispatcher,
      headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
      body: JSON.stringify({ pendingUploadType: "TemporaryBlobReference" }),
    });
    const body = (await response.body.json()) as {
      blobReferenceForConsumption?: { blobUri?: string; credential?: { sasUri?: string } };
    };
    expect(response.statusCode, JSON.stringify(body)).to.equal(200);
    const reference = body.blobReferenceForConsumption;
    const sasUri = reference?.credential?.sasUri;
    const blobUri = reference?.blobUri;
    expect(sasUri, "sasUri").to.be.a("string");
    expect(blobUri, "blobUri").to.be.a("string");
    return { sasUri: sasUri as string, blobUri: blobUri as string };
  } finally {
    await dispatcher.close();
  }
}

/** A client for checking what landed in the container, trusting the emulator's CA. */
async function containerFor(sasUri: string): Promise<ContainerClient> {
  const ca = await fs.readFile(getEmulator().info.caCertPath, "utf8");
  const options = { tlsOptions: { ca } } as StoragePipelineOptions;
  return new ContainerClient(sasUri, newPipeline(new AnonymousCredential(), options));
}

async function listBlobs(
  container: ContainerClient,
): Promise<Map<string, Record<string, string> | undefined>> {
  const blobs = new Map<string, Record<string, string> | undefined>();
  for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
    blobs.set(blob.name, blob.metadata);
  }
  return blobs;
}

/**
 * A TCP relay in front of the blob endpoint that counts connections open at once. The HTTP agent
 * opens a new connection only when every open one is busy, so the peak is at least the peak of
 * requests in flight that had to wait for none.
 */
async function startCountingRelay(target: URL): Promise<{
  port: number;
  peakOpen(): number;
  close(): Promise<void>;
}> {
  let open = 0;
  let peak = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open++;
    peak = Math.max(peak, open);
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      if (sockets.delete(client)) {
        open--;
      }
      client.destroy();
      upstream.destroy();
      sockets.delete(upstream);
    };
    client.on("close", done).on("error", done);
    upstream.on("close", done).on("error", done);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    peakOpen: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

describe("blob upload through a startPendingUpload SAS @emulator", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-upload-"));
  });
  afterEach(async () => {
    getEmulator().faults.clear();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@emulator uploads a code folder as <folder>/<relative path> with the indicator metadata, like the SDK", async () => {
    const { info } = getEmulator();
    const hashed = await computeContentHash(VECTOR_ROOT);
    const { sasUri } = await startPendingUpload("upload-vector");
    const names = blobNamesForPendingUpload(hashed.rootName, hashed.files);
    const indicator = indicatorBlob(names);

    const result = await uploadFiles(
      { containerSasUrl: sasUri, prefix: uploadPrefixFor(hashed.rootName, hashed.rootIsFile) },
      hashed.files,
      {
        caCertPath: info.caCertPath,
        metadata: { blobName: indicator, metadata: indicatorMetadata("upload-vector", "1") },
      },
    );

    expect(result).to.deep.equal({
      blobCount: 4,
      byteCount: 24,
      skippedBlobCount: 0,
      skippedByteCount: 0,
      blobNames: names,
    });
    const container = await containerFor(sasUri);
    const blobs = await listBlobs(container);
    expect([...blobs.keys()].sort()).to.deep.equal([...names].sort());
    expect(indicator).to.equal("src/Zeta/a.txt");
    expect(blobs.get(indicator)).to.deep.equal({
      upload_status: "completed",
      name: "upload-vector",
      version: "1",
    });
    for (const file of hashed.files) {
      const downloaded = await container
        .getBlobClient(`src/${file.relativePath}`)
        .downloadToBuffer();
      expect(downloaded.equals(await fs.readFile(file.absolutePath)), file.relativePath).to.equal(
        true,
      );
    }
  });

  it("@emulator uploads with an account key under LocalUpload/<md5>/ and reads the indicator back", async () => {
    const { info } = getEmulator();
    const { sasUri } = await startPendingUpload("upload-datastore");
    const containerUrl = sasUri.split("?")[0];
    const credential = new StorageSharedKeyCredential(
      info.storageAccountName,
      DEV_STORE_ACCOUNT_KEY,
    );
    const rules = await loadIgnoreRules(VECTOR_ROOT);
    const md5 = await computeObjectHash(VECTOR_ROOT, rules);
    const hashed = await computeContentHash(VECTOR_ROOT, { ignoreRules: rules });
    const target = { containerUrl, credential, prefix: `LocalUpload/${md5}/src/` };
    const names = legacyBlobNames(md5, "src", hashed.files);
    const indicator = indicatorBlob(names);
    const options = { caCertPath: info.caCertPath };

    expect(await readBlobMetadata(target, indicator, options)).to.equal(undefined);
    const result = await uploadFiles(target, hashed.files, {
      ...options,
      metadata: { blobName: indicator, metadata: indicatorMetadata("data-asset", "2") },
    });

    expect(result.blobNames).to.deep.equal(names);
    expect(await readBlobMetadata(target, indicator, options)).to.deep.equal({
      upload_status: "completed",
      name: "data-asset",
      version: "2",
    });
    expect(await readBlobMetadata(target, names[1], options)).to.deep.equal({});
  });

  it("@emulator a file above the single-shot limit goes up in blocks and arrives intact", async () => {
    const { info, requests } = getEmulator();
    const big = randomBytes(5 * 256 * 1024 + 1234); // six blocks of 256 KiB, the last one short
    await fs.mkdir(path.join(tmp, "code"));
    await fs.writeFile(path.join(tmp, "code", "model.bin"), big);
    await fs.writeFile(path.join(tmp, "code", "small.txt"), "small");
    const hashed = await computeContentHash(path.join(tmp, "code"));
    const { sasUri } = await startPendingUpload("upload-blocks");
    const mark = requests.mark();

    await uploadFiles({ containerSasUrl: sasUri, prefix: "code/" }, hashed.files, {
      caCertPath: info.caCertPath,
      singleShotLimitInBytes: 1024 * 1024,
      blockSizeInBytes: 256 * 1024,
    });

    const blobRequests = requests.since(mark).filter((r) => r.plane === "blob");
    const queryOf = (r: { query: string }) => new URLSearchParams(r.query);
    const putBlocks = blobRequests.filter(
      (r) => r.method === "PUT" && queryOf(r).get("comp") === "block",
    );
    const commits = blobRequests.filter(
      (r) => r.method === "PUT" && queryOf(r).get("comp") === "blocklist",
    );
    expect(putBlocks.map((r) => r.path.endsWith("/code/model.bin"))).to.deep.equal(
      Array(6).fill(true),
    );
    expect(commits).to.have.length(1);
    const container = await containerFor(sasUri);
    const downloaded = await container.getBlobClient("code/model.bin").downloadToBuffer();
    expect(downloaded.equals(big)).to.equal(true);
  });

  it("@emulator never has more requests in flight than the concurrency option allows", async () => {
    const { info } = getEmulator();
    await fs.mkdir(path.join(tmp, "many"));
    for (let i = 0; i < 24; i++) {
      await fs.writeFile(path.join(tmp, "many", `f${i}.txt`), randomBytes(2048));
    }
    const hashed = await computeContentHash(path.join(tmp, "many"));
    const { sasUri } = await startPendingUpload("upload-concurrency");
    const sas = new URL(sasUri);

    const peakWith = async (concurrency: number, prefix: string): Promise<number> => {
      const relay = await startCountingRelay(sas);
      try {
        const viaRelay = new URL(sasUri);
        viaRelay.port = String(relay.port);
        await uploadFiles({ containerSasUrl: viaRelay.toString(), prefix }, hashed.files, {
          caCertPath: info.caCertPath,
          concurrency,
        });
        return relay.peakOpen();
      } finally {
        await relay.close();
      }
    };

    const peakOfTwo = await peakWith(2, "two/");
    const peakOfEight = await peakWith(8, "eight/");
    expect(peakOfTwo).to.be.within(1, 2);
    // The bound is what limits the first one: with room for eight, more connections open.
    expect(peakOfEight).to.be.greaterThan(2).and.at.most(8);
    const blobs = await listBlobs(await containerFor(sasUri));
    expect([...blobs.keys()].filter((n) => n.startsWith("two/"))).to.have.length(24);
  });

  it("@emulator a transient 503 from storage is retried and the upload completes", async () => {
    const { info, faults } = getEmulator();
    await fs.mkdir(path.join(tmp, "flaky"));
    await fs.writeFile(path.join(tmp, "flaky", "a.py"), "print('a')\n");
    const hashed = await computeContentHash(path.join(tmp, "flaky"));
    const { sasUri } = await startPendingUpload("upload-retry");
    faults.add({ kind: "status", status: 503, plane: "blob", method: "PUT", path: "/flaky/a.py" });

    const result = await uploadFiles({ containerSasUrl: sasUri, prefix: "flaky/" }, hashed.files, {
      caCertPath: info.caCertPath,
      retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 },
    });

    expect(result.blobNames).to.deep.equal(["flaky/a.py"]);
    const downloaded = await (
      await containerFor(sasUri)
    )
      .getBlobClient("flaky/a.py")
      .downloadToBuffer();
    expect(downloaded.toString()).to.equal("print('a')\n");
  });

  it("@emulator a rejected SAS fails with BlobUploadError naming the blob, without the signature", async () => {
    const { info } = getEmulator();
    await fs.mkdir(path.join(tmp, "denied"));
    await fs.writeFile(path.join(tmp, "denied", "a.py"), "a");
    const hashed = await computeContentHash(path.join(tmp, "denied"));
    const { sasUri } = await startPendingUpload("upload-denied");
    const forged = new URL(sasUri);
    forged.searchParams.set("sig", "Zm9yZ2VkLXNpZ25hdHVyZQ==");

    const error = await uploadFiles(
      { containerSasUrl: forged.toString(), prefix: "denied/" },
      hashed.files,
      { caCertPath: info.caCertPath, retryOptions: { maxTries: 1 } },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(isBlobUploadError(error), String(error)).to.equal(true);
    expect(error).to.include({
      blobName: "denied/a.py",
      code: "BlobUploadFailed",
      statusCode: 403,
    });
    expect((error as Error).message)
      .to.contain("denied/a.py")
      .and.not.contain("Zm9yZ2Vk");
  });
});
