import { expect } from "chai";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { RequestRecord } from "../../emulator/requestLog";
import { pendingUploadIdFor, pendingUploadRequest } from "../../provider/operations/assets";
import { getEmulator, emulatorConfig, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

const WORKER = path.resolve(__dirname, "../support/codeVersionWorker.js");
const KiB = 1024;

/** Blob data PUTs (blobs and blocks, not commits or metadata) at the emulator's front door. */
function dataPuts(records: readonly RequestRecord[], completedOnly = false): RequestRecord[] {
  return records
    .filter((r) => r.plane === "blob" && r.method === "PUT")
    .filter((r) => !/(^|&)comp=(blocklist|metadata)(&|$)/.test(r.query))
    .filter((r) => !completedOnly || (r.status >= 200 && r.status < 300));
}

const bytesOf = (records: readonly RequestRecord[]) =>
  records.reduce((sum, r) => sum + (r.requestBytes ?? 0), 0);

/** The container a blob request went to: the first segment of its path. */
const containerOf = (r: RequestRecord) => r.path.split("/").filter(Boolean)[0];

describe("resumable code uploads @emulator", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-code-resume-"));
  });
  afterEach(async () => {
    getEmulator().faults.clear();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@unit the pendingUploadId is a GUID fixed by workspace, name, version and content", () => {
    const ws =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
    const id = pendingUploadIdFor(ws, "src", "1", "ab".repeat(32));
    expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pendingUploadIdFor(ws.toUpperCase(), "src", "1", "ab".repeat(32))).to.equal(id);
    for (const other of [
      pendingUploadIdFor(`${ws}2`, "src", "1", "ab".repeat(32)),
      pendingUploadIdFor(ws, "src2", "1", "ab".repeat(32)),
      pendingUploadIdFor(ws, "src", "2", "ab".repeat(32)),
      pendingUploadIdFor(ws, "src", "1", "cd".repeat(32)),
    ]) {
      expect(other).to.not.equal(id);
    }
    expect(pendingUploadRequest(id)).to.deep.equal({
      pendingUploadId: id,
      pendingUploadType: "TemporaryBlobReference",
    });
  });

  it("@emulator a CodeVersion upload killed half way resumes in the same container without re-sending what was complete", async function () {
    this.timeout(180_000);
    const { faults, requests } = getEmulator();
    const root = path.join(tmp, "src");
    await fs.mkdir(root);
    const fileCount = 48;
    for (let i = 0; i < fileCount; i++) {
      await fs.writeFile(
        path.join(root, `part-${String(i).padStart(2, "0")}.py`),
        randomBytes(64 * KiB),
      );
    }
    const total = fileCount * 64 * KiB;
    const inputs = { ...workspaceInputs(), name: uniqueName("resume-code"), path: root };
    // Slow every blob write so the kill lands in the middle of the upload.
    faults.add({ kind: "latency", latencyInMs: 200, plane: "blob", method: "PUT", rate: 1 });

    const first = requests.mark();
    const child = spawn(
      process.execPath,
      [WORKER, JSON.stringify(emulatorConfig()), JSON.stringify(inputs)],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AZUREML_PROGRESS: "off" } },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    const watch = setInterval(() => {
      if (bytesOf(dataPuts(requests.since(first), true)) >= total * 0.4) {
        child.kill("SIGKILL");
      }
    }, 20);
    let signal: NodeJS.Signals | null;
    try {
      signal = await exited;
    } finally {
      clearInterval(watch);
    }
    expect(signal, `the provider was killed, not finished (${stderr})`).to.equal("SIGKILL");
    faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 500)); // requests cut off are logged
    const firstRun = dataPuts(requests.since(first));
    const completed = bytesOf(dataPuts(firstRun, true));
    expect(completed, "part of the upload completed before the kill").to.be.within(1, total - 1);

    const second = requests.mark();
    const provider = await configuredProvider("codeVersion");
    const { outs } = await checkAndCreate(provider, inputs);
    const secondRun = dataPuts(requests.since(second));
    expect(bytesOf(secondRun), "bytes sent again").to.be.at.most(total - completed);
    expect(
      new Set([...firstRun, ...secondRun].map(containerOf)),
      "both runs fill one container",
    ).to.have.length(1);
    expect(outs.codeUri).to.include(`/${containerOf(firstRun[0])}/`);
    expect(outs.fileCount).to.equal(fileCount);
  });
});
