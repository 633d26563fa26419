import { expect } from "chai";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { getAsset } from "../support/arm";
import { uniqueCopy } from "../support/fixtures";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, UNKNOWN, workspaceInputs } from "../support/providers";

const SRC = "test/fixtures/assets/train-src";
/** sha256 content hash of code-hash-vectors/testdir/src (AZUREML-REST-CONTRACT.md section 8.7). */
const VECTOR_SHA256 = "5b496995c67ff387bd90539cf16ddc36b941b54cb0ff9518737ddd6d5c27ad39";

function blobWrites(since: number) {
  return getEmulator()
    .requests.since(since)
    .filter((r) => r.plane === "blob" && r.method === "PUT");
}

function armRequests(since: number) {
  return getEmulator()
    .requests.since(since)
    .filter((r) => r.plane === "arm");
}

describe("CodeVersion provider", function () {
  it("hashes a local folder like the Azure ML SDK at check time, with no request @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {},
      { ...workspaceInputs(), name: "src", path: "test/fixtures/code-hash-vectors/src" },
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.contentHash).to.equal(VECTOR_SHA256);
    expect(result.inputs.version).to.equal(VECTOR_SHA256.slice(0, 16));
    expect(result.inputs).to.deep.include({ fileCount: 4, byteCount: 24, ignoredCount: 0 });
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("uploads the folder honouring .amlignore, then registers the version with its hash @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const name = uniqueName("code");
    const folder = uniqueCopy(SRC);
    const mark = getEmulator().requests.mark();
    const { id, outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name,
      path: folder,
    });
    expect(outs).to.deep.include({
      fileCount: 4,
      ignoredCount: 1,
      ignoreFile: ".amlignore",
      hashVersion: 202208,
    });
    expect(outs.uploadedBlobCount).to.equal(4);
    // four blobs, then the indicator metadata on the first one
    expect(blobWrites(mark)).to.have.length(5);
    expect(outs.codeUri).to.match(/\/train-src$/);
    expect(outs.assetUri).to.equal(outs.codeUri);

    const live = await getAsset(id);
    expect(live.properties.codeUri).to.equal(outs.codeUri);
    expect(live.properties.properties).to.deep.include({
      hash_sha256: outs.contentHash,
      hash_version: "202208",
    });
  });

  it("creating an unchanged folder a second time makes one list call and no blob writes @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const inputs = { ...workspaceInputs(), name: uniqueName("code"), path: SRC };
    const first = await checkAndCreate(provider, inputs);
    const checked = (await provider.check({}, inputs)).inputs;
    const mark = getEmulator().requests.mark();
    const second = await provider.create(checked);
    expect(second.id).to.equal(first.id);
    expect(second.outs.uploadedBlobCount).to.equal(0);
    expect(blobWrites(mark)).to.deep.equal([]);
    const calls = armRequests(mark);
    expect(
      calls.map((c) => `${c.method} ${c.query.includes("hash=") ? "list-by-hash" : c.path}`),
    ).to.deep.equal(["GET list-by-hash"]);
  });

  it("reuses the uploaded code of a same-hash version under another name, without uploading @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const first = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("code"),
      path: SRC,
    });
    const mark = getEmulator().requests.mark();
    const other = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("code-other"),
      path: SRC,
    });
    expect(other.outs.codeUri).to.equal(first.outs.codeUri);
    expect(other.id).not.to.equal(first.id);
    expect(blobWrites(mark)).to.deep.equal([]);
  });

  it("registers an existing blob URI without uploading anything @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const mark = getEmulator().requests.mark();
    const { outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("code"),
      codeUri: "https://account.blob.core.windows.net/container/score",
    });
    expect(outs.codeUri).to.equal("https://account.blob.core.windows.net/container/score");
    expect(blobWrites(mark)).to.deep.equal([]);
  });

  it("plans a replacement when a file changes and nothing when only the folder's location changes @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const dir = mkdtempSync(path.join(os.tmpdir(), "code-"));
    try {
      mkdirSync(path.join(dir, "src"));
      writeFileSync(path.join(dir, "src", "train.py"), "print(1)\n");
      const inputs = {
        ...workspaceInputs(),
        name: uniqueName("code"),
        path: path.join(dir, "src"),
      };
      const { id, outs } = await checkAndCreate(provider, inputs);
      expect(path.isAbsolute(outs.path!)).to.equal(false);

      writeFileSync(path.join(dir, "src", "train.py"), "print(2)\n");
      const changed = (await provider.check(outs, inputs)).inputs;
      const plan = await provider.diff(id, outs, changed);
      expect(plan.replaces).to.include.members(["contentHash", "version"]);

      writeFileSync(path.join(dir, "src", "train.py"), "print(1)\n");
      mkdirSync(path.join(dir, "moved"));
      writeFileSync(path.join(dir, "moved", "train.py"), "print(1)\n");
      const moved = (await provider.check(outs, { ...inputs, path: path.join(dir, "moved") }))
        .inputs;
      expect(moved.contentHash).to.equal(outs.contentHash);
      // Same files elsewhere: only the state's path changes, the version stays.
      expect(await provider.diff(id, outs, moved)).to.deep.equal({ changes: true, replaces: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects missing, conflicting and empty paths at check time, naming the property @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const dir = mkdtempSync(path.join(os.tmpdir(), "empty-"));
    const mark = getEmulator().requests.mark();
    try {
      const both = await provider.check(
        {},
        { ...workspaceInputs(), name: "c", path: SRC, codeUri: "https://a/b" },
      );
      expect(both.failures!.map((f) => f.property)).to.deep.equal(["path"]);
      const missing = await provider.check(
        {},
        { ...workspaceInputs(), name: "c", path: "test/fixtures/nope" },
      );
      expect(missing.failures![0]).to.deep.include({ property: "path" });
      expect(missing.failures![0].reason).to.contain("test/fixtures/nope");
      const empty = await provider.check({}, { ...workspaceInputs(), name: "c", path: dir });
      expect(empty.failures![0].reason).to.contain("no files");
      const http = await provider.check(
        {},
        { ...workspaceInputs(), name: "c", codeUri: "http://insecure/x" },
      );
      expect(http.failures![0].property).to.equal("codeUri");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("leaves hash and version unknown when the path is unknown in preview @emulator", async () => {
    const provider = await configuredProvider("codeVersion");
    const result = await provider.check({}, { ...workspaceInputs(), name: "c", path: UNKNOWN });
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.contentHash).to.equal(UNKNOWN);
    expect(result.inputs.version).to.equal(UNKNOWN);
  });
});
