import { expect } from "chai";
import {
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import type { RequestRecord } from "../../emulator/requestLog";
import type { ContentWorkerReport, ContentWorkerRequest } from "../../bench/contentWorker";
import {
  abandonedStagingPrefixes,
  pruneAbandonedStaging,
} from "../../provider/upload/stagedUpload";
import { emulatorConfig, getEmulator, uniqueName } from "../support/emulator";
import { configuredProvider, workspaceInputs } from "../support/providers";

const MiB = 1024 * 1024;
const WORKER = path.resolve(__dirname, "../../bench/contentWorker.js");
const STAGING = "LocalUpload/.staging/";

/** Bytes of file data the blob front door received (blobs and blocks, not commits or metadata). */
function dataBytes(records: readonly RequestRecord[]): number {
  return records
    .filter((r) => r.plane === "blob" && r.method === "PUT")
    .filter((r) => !/(^|&)comp=(blocklist|metadata)(&|$)/.test(r.query))
    .reduce((sum, r) => sum + (r.requestBytes ?? 0), 0);
}

/** The default datastore's container, from the blob requests an upload made. */
async function uploadContainer(records: readonly RequestRecord[]): Promise<ContainerClient> {
  const { info } = getEmulator();
  const blob = records.find((r) => r.plane === "blob" && r.path.includes("/LocalUpload/"));
  expect(blob, "a blob request under LocalUpload/").to.not.equal(undefined);
  const container = (blob as RequestRecord).path.split("/")[2];
  const ca = await fs.readFile(info.caCertPath, "utf8");
  return new ContainerClient(
    `${info.blobEndpoint}${container}`,
    newPipeline(new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY), {
      tlsOptions: { ca },
    } as StoragePipelineOptions),
  );
}

async function blobNames(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix })) {
    names.push(item.name);
  }
  return names;
}

/**
 * A folder of new content: a large file of many blocks, one just over the 4 MiB whole-read limit
 * (streamed in chunks, sent in two blocks), and small files.
 */
async function newFolder(root: string, largeBytes: number): Promise<number> {
  await fs.mkdir(path.join(root, "sub"), { recursive: true });
  const files: [string, number][] = [
    ["a-large.bin", largeBytes],
    ["sub/b.bin", 3 * MiB],
    ["sub/b-streamed.bin", 6 * MiB + 5],
    ["sub/c.txt", 1000],
    ["z-last.txt", 2000],
  ];
  for (const [name, size] of files) {
    await fs.writeFile(path.join(root, name), randomBytes(size));
  }
  return files.reduce((sum, [, size]) => sum + size, 0);
}

describe("a new local folder is read once @emulator", function () {
  this.timeout(180_000);
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-read-once-"));
  });
  afterEach(async () => {
    getEmulator().faults.clear();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("previews a new DataVersion and ModelVersion without hashing: version and content hash unknown, no request", async () => {
    const root = path.join(tmp, "data");
    await newFolder(root, 10 * MiB);
    const data = await configuredProvider("dataVersion");
    const model = await configuredProvider("modelVersion");
    const mark = getEmulator().requests.mark();
    const news = { ...workspaceInputs(), name: uniqueName("new"), path: root };
    const checked = await data.check({}, { ...news, dataType: "uri_folder" });
    const checkedModel = await model.check({}, news);
    expect(checked.failures ?? []).to.deep.equal([]);
    expect(checkedModel.failures ?? []).to.deep.equal([]);
    for (const inputs of [checked.inputs, checkedModel.inputs]) {
      // Absent from check's inputs, these outputs show as unknown in the preview of a create.
      expect(inputs).to.not.have.any.keys("version", "contentHash", "fileCount", "byteCount");
    }
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("creates a new DataVersion reading the folder once, and the next check (an update's) sees the same version", async () => {
    const root = path.join(tmp, "data");
    const size = await newFolder(root, 20 * MiB);
    const { info } = getEmulator();
    const mark = getEmulator().requests.mark();
    const request: ContentWorkerRequest = {
      mode: "up",
      root,
      name: uniqueName("once"),
      resourceGroupName: info.resourceGroupName,
      workspaceName: info.workspaceName,
      config: emulatorConfig(),
    };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [WORKER, JSON.stringify(request)],
      {
        env: {
          ...process.env,
          AZUREML_PROGRESS: "off",
          AZUREML_CACHE_DIR: path.join(tmp, "cache"),
          IDENTITY_ENDPOINT: info.identityEndpoint,
          IDENTITY_HEADER: info.identityHeader,
        },
        maxBuffer: 16 * MiB,
      },
    );
    const report = JSON.parse(stdout.trim().split("\n").pop() as string) as ContentWorkerReport;
    // The preview's and the update's checks read nothing; create reads every byte once.
    expect(report.phases.check + report.phases.recheck).to.be.lessThan(MiB);
    expect(report.bytesRead / size, JSON.stringify(report)).to.be.within(1, 1.05);
    const records = getEmulator().requests.since(mark);
    expect(dataBytes(records)).to.be.within(size, size + MiB); // sent once, to the staging prefix
    const container = await uploadContainer(records);
    expect(await blobNames(container, STAGING)).to.deep.equal([]);
    const finals = records.filter(
      (r) => r.method === "PUT" && /LocalUpload\/[0-9a-f]{32}\//.test(r.path),
    );
    expect(finals.length).to.be.greaterThan(0); // copies (no bytes from here) and the indicator
    // What the datastore holds is the folder's bytes, file by file (under this upload's folder:
    // other tests' uploads of a folder named "data" share the container).
    const finalPrefix = /LocalUpload\/[0-9a-f]{32}\/data\//.exec(finals[0].path)![0];
    for (const name of [
      "a-large.bin",
      "sub/b.bin",
      "sub/b-streamed.bin",
      "sub/c.txt",
      "z-last.txt",
    ]) {
      const uploaded = await container.getBlobClient(`${finalPrefix}${name}`).downloadToBuffer();
      expect(uploaded.equals(await fs.readFile(path.join(root, name))), name).to.equal(true);
    }
  });

  it("re-runs an interrupted create without sending staged content again, and leaves no staging blobs", async () => {
    const root = path.join(tmp, "data");
    await newFolder(root, 20 * MiB);
    const provider = await configuredProvider("dataVersion");
    const news = {
      ...workspaceInputs(),
      name: uniqueName("resume"),
      dataType: "uri_folder",
      path: root,
    };
    const checked = (await provider.check({}, news)).inputs;
    // The last file's upload is refused: everything before it is staged when create fails.
    getEmulator().faults.add({
      kind: "status",
      status: 403,
      plane: "blob",
      method: "PUT",
      path: "/z-last.txt",
      times: 1,
    });
    const first = getEmulator().requests.mark();
    await provider.create(checked).then(
      () => expect.fail("create should fail"),
      (error: Error) => expect(error.message).to.contain("z-last.txt"),
    );
    const container = await uploadContainer(getEmulator().requests.since(first));
    expect((await blobNames(container, STAGING)).length).to.be.greaterThan(0);

    const again = getEmulator().requests.mark();
    const created = await provider.create((await provider.check({}, news)).inputs);
    const records = getEmulator().requests.since(again);
    expect(dataBytes(records)).to.be.at.most(2000); // only z-last.txt is sent
    expect(created.outs.dataUri).to.match(/\/LocalUpload\/[0-9a-f]{32}\/data\/$/);
    expect(created.outs.version).to.match(/^[0-9a-f]{16}$/);
    expect(await blobNames(container, STAGING)).to.deep.equal([]);
    const finalPrefix = `LocalUpload/${/LocalUpload\/([0-9a-f]{32})\//.exec(created.outs.dataUri)![1]}/data/`;
    expect((await blobNames(container, finalPrefix)).sort()).to.deep.equal(
      ["a-large.bin", "sub/b-streamed.bin", "sub/b.bin", "sub/c.txt", "z-last.txt"].map(
        (n) => `${finalPrefix}${n}`,
      ),
    );

    // The update's check hashes the folder (from the cache the create filled) to the same version.
    const rechecked = (await provider.check(created.outs, news)).inputs;
    expect(rechecked.contentHash).to.equal(created.outs.contentHash);
    expect(rechecked.version).to.equal(created.outs.version);
  });

  it("removes staging prefixes abandoned for a week, but not a younger one or the upload's own", async () => {
    const root = path.join(tmp, "data");
    await newFolder(root, 1 * MiB);
    const provider = await configuredProvider("dataVersion");
    const news = { ...workspaceInputs(), name: uniqueName("prune"), dataType: "uri_folder" };
    const mark = getEmulator().requests.mark();
    await provider.create((await provider.check({}, { ...news, path: root })).inputs);
    const container = await uploadContainer(getEmulator().requests.since(mark));
    const left = [
      `${STAGING}${uniqueName("gone")}/a.txt`,
      `${STAGING}${uniqueName("gone")}/b/c.txt`,
    ];
    const mine = `${STAGING}${uniqueName("mine")}/`;
    for (const name of [...left, `${mine}x.txt`]) {
      await container.getBlockBlobClient(name).upload("staged", 6);
    }
    const day = 24 * 3600 * 1000;
    // The provider loads @azure/storage-blob as an ES module; this test's client is the CommonJS one.
    const staging = container as unknown as Parameters<typeof pruneAbandonedStaging>[0];
    // Within the week everything stays; a week later all but the upload's own prefix goes.
    const soon = await pruneAbandonedStaging(staging, STAGING, {
      keep: mine,
      now: new Date(Date.now() + 6 * day),
    });
    expect(soon).to.equal(0);
    const later = await pruneAbandonedStaging(staging, STAGING, {
      keep: mine,
      now: new Date(Date.now() + 8 * day),
    });
    expect(later).to.equal(2);
    expect(await blobNames(container, STAGING)).to.deep.equal([`${mine}x.txt`]);
    await container.deleteBlob(`${mine}x.txt`);
  });
});

describe("abandoned staging @unit", () => {
  it("@unit a prefix is abandoned only when none of its blobs changed since the cutoff", () => {
    const at = (iso: string) => new Date(iso);
    const blobs = [
      { name: "S/a/1", lastModified: at("2026-01-01") },
      { name: "S/a/2/3", lastModified: at("2026-01-02") },
      { name: "S/b/1", lastModified: at("2026-01-01") },
      { name: "S/b/2", lastModified: at("2026-03-01") },
      { name: "S/c/1", lastModified: at("2026-01-01") },
      { name: "T/d/1", lastModified: at("2026-01-01") },
    ];
    expect(abandonedStagingPrefixes(blobs, "S/", at("2026-02-01"), "S/c/")).to.deep.equal(["S/a/"]);
    expect(abandonedStagingPrefixes(blobs, "S/", at("2026-01-01"))).to.deep.equal([]);
  });
});
