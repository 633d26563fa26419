import { execFile, spawn } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import * as tls from "node:tls";
import { promisify } from "node:util";
import { DefaultAzureCredential } from "@azure/identity";
import {
  BlobSASPermissions,
  BlobServiceClient,
  BlockBlobClient,
  ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { expect } from "chai";
import { Agent, request } from "undici";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import { storageErrorCode, withoutHopByHopHeaders } from "../../emulator/blobFrontDoor";
import { answerTokenRequest, resolveTokenAudience } from "../../emulator/identity";
import { startEmulator, type EmulatorInfo, type RunningEmulator } from "../../emulator/index";
import { CliUsageError, parseCliArgs, parseProgression } from "../../emulator/main";
import { decodeToken } from "../../emulator/tokens";
import { MissingPeerDependencyError, requireOptionalPeer } from "../../emulator/net";
import { findTlsMaterialProblem, generateTlsMaterial } from "../../emulator/tls";
import Mocha from "mocha";
import { getEmulator, needsEmulator, testCertDir, uniqueName } from "../support/emulator";
import { selectedTestTitles } from "../support/hooks";

const execFileAsync = promisify(execFile);
const API_VERSION = "2024-04-01";
const MAIN_JS = path.join(__dirname, "..", "..", "emulator", "main.js");

/** GET an ARM path with a bearer token, trusting the emulator CA explicitly. */
async function armGet(info: EmulatorInfo, armPath: string, token = info.token) {
  const agent = new Agent({ connect: { ca: readFileSync(info.caCertPath, "utf8") } });
  try {
    const response = await request(`${info.armEndpoint}${armPath}?api-version=${API_VERSION}`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher: agent,
    });
    return { status: response.statusCode, body: (await response.body.json()) as any };
  } finally {
    await agent.close();
  }
}

async function armPut(info: EmulatorInfo, armPath: string, body: unknown) {
  const agent = new Agent({ connect: { ca: readFileSync(info.caCertPath, "utf8") } });
  try {
    const response = await request(`${info.armEndpoint}${armPath}?api-version=${API_VERSION}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      dispatcher: agent,
    });
    return { status: response.statusCode, body: (await response.body.json()) as any };
  } finally {
    await agent.close();
  }
}

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Writes `text` as is to 127.0.0.1:port (over TLS when `ca` is given) and resolves with everything
 * the server sent back before it closed the connection.
 */
function rawExchange(port: number, text: string, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket =
      ca === undefined
        ? net.connect(port, "127.0.0.1")
        : tls.connect({ port, host: "127.0.0.1", ca, servername: "localhost" });
    const chunks: Buffer[] = [];
    socket.once(ca === undefined ? "connect" : "secureConnect", () => socket.write(text));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function containerClient(info: EmulatorInfo, name: string, retryDelayInMs = 20): ContainerClient {
  const service = new BlobServiceClient(
    info.blobEndpoint,
    new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
    { retryOptions: { maxTries: 3, retryDelayInMs, maxRetryDelayInMs: retryDelayInMs * 4 } },
  );
  return service.getContainerClient(name);
}

/** The JWT header and claims of an emulator token, merged. */
function decodeJwt(token: string): Record<string, unknown> {
  const decoded = decodeToken(token);
  return { ...decoded?.header, ...decoded?.claims };
}

function environmentBody() {
  return {
    properties: {
      image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      description: "persistence check",
    },
  };
}

describe("emulator runtime", () => {
  describe("command line @unit", () => {
    it("parses every documented option into EmulatorOptions", () => {
      const command = parseCliArgs([
        "--port",
        "8443",
        "--blob-port=10443",
        "--data-dir",
        "state",
        "--cert-dir",
        "certs",
        "--progression",
        "polls:3",
        "--retry-after",
        "0",
        "--fault",
        '{"kind":"status","status":503,"plane":"blob"}',
        "--fault",
        '{"kind":"drop","plane":"arm"}',
        "--loose",
        "--workspace",
        "mlw-ci",
      ]);
      expect(command).to.deep.equal({
        kind: "start",
        options: {
          port: 8443,
          blobPort: 10443,
          dataDir: "state",
          certDir: "certs",
          progression: { mode: "polls", polls: 3 },
          retryAfterInSeconds: 0,
          faults: [
            { kind: "status", status: 503, plane: "blob" },
            { kind: "drop", plane: "arm" },
          ],
          strict: false,
          workspaceName: "mlw-ci",
        },
      });
    });

    it("reads immediate, polls:N and timed:MS progressions and rejects anything else", () => {
      expect(parseProgression("immediate")).to.deep.equal({ mode: "immediate" });
      expect(parseProgression("polls:2")).to.deep.equal({ mode: "polls", polls: 2 });
      expect(parseProgression("timed:1500")).to.deep.equal({ mode: "timed", ms: 1500 });
      expect(() => parseProgression("slow")).to.throw(/immediate, polls:<n> or timed:<ms>/);
    });

    it("rejects a fault rule with a badly typed field and a zero poll count as usage errors", () => {
      expect(() => parseCliArgs(["--fault", '{"kind":"drop","method":5}']))
        .to.throw(CliUsageError, /--fault .*method/)
        .with.property("code", "EMULATOR_CLI_USAGE");
      expect(() => parseCliArgs(["--fault", '{"kind":"status","status":200}'])).to.throw(
        CliUsageError,
        /between 400 and 599/,
      );
      expect(() => parseCliArgs(["--progression", "polls:0"])).to.throw(
        CliUsageError,
        /polls:0.*positive integer/,
      );
      expect(parseCliArgs(["--fault", '{"kind":"drop","method":"put"}'])).to.deep.equal({
        kind: "start",
        options: { faults: [{ kind: "drop", method: "put" }] },
      });
    });

    it("rejects unknown flags, missing values, bad ports and non-JSON faults by name", () => {
      expect(() => parseCliArgs(["--prot", "1"])).to.throw(/Unknown option --prot/);
      expect(() => parseCliArgs(["--port"])).to.throw(/--port needs a value/);
      expect(() => parseCliArgs(["--port", "70000"])).to.throw(/between 0 and 65535/);
      expect(() => parseCliArgs(["--fault", "{kind"])).to.throw(/--fault must be a JSON object/);
      expect(parseCliArgs(["--port", "1", "--help"])).to.deep.equal({ kind: "help" });
    });
  });

  describe("managed-identity answers @unit", () => {
    const base = {
      method: "GET",
      secret: "s3cret",
      issueToken: (audience: "arm" | "ml") => `token-for-${audience}`,
      nowInSeconds: 1_700_000_000,
    };
    const url = (resource: string) =>
      new URL(
        `http://127.0.0.1/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`,
      );

    it("maps ARM and Azure ML resources and scopes, with or without a trailing slash", () => {
      expect(resolveTokenAudience("https://management.azure.com")).to.equal("arm");
      expect(resolveTokenAudience("https://management.azure.com/")).to.equal("arm");
      expect(resolveTokenAudience("https://management.azure.com/.default")).to.equal("arm");
      expect(resolveTokenAudience("https://ml.azure.com/")).to.equal("ml");
      expect(resolveTokenAudience("https://management.core.windows.net/")).to.equal("arm");
      expect(resolveTokenAudience("https://storage.azure.com/")).to.equal(undefined);
    });

    it("answers like App Service: 401 without the header, 403 with a wrong one, 400 for other resources", () => {
      const resource = url("https://ml.azure.com");
      expect(
        answerTokenRequest({ ...base, url: resource, secretHeader: undefined }).status,
      ).to.equal(401);
      expect(answerTokenRequest({ ...base, url: resource, secretHeader: "nope" }).status).to.equal(
        403,
      );
      const other = answerTokenRequest({
        ...base,
        url: url("https://vault.azure.net"),
        secretHeader: "s3cret",
      });
      expect(other.status).to.equal(400);
      expect(other.body.error).to.equal("invalid_resource");
    });

    it("returns the token with expires_on in epoch seconds as a string, as App Service does", () => {
      const answer = answerTokenRequest({
        ...base,
        url: url("https://ml.azure.com/"),
        secretHeader: "s3cret",
      });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({
        access_token: "token-for-ml",
        resource: "https://ml.azure.com/",
        token_type: "Bearer",
        expires_on: String(base.nowInSeconds + 3600),
      });
    });
  });

  describe("test bootstrap @unit", () => {
    function runnerFor(grep: RegExp, invert = false) {
      const root = new Mocha.Suite("", new Mocha.Context());
      root.root = true;
      const suite = Mocha.Suite.create(root, "area");
      for (const title of ["pure @unit", "served @emulator", "hosted @host"]) {
        suite.addTest(new Mocha.Test(title, () => undefined));
      }
      return Object.assign(new Mocha.Runner(root, { delay: false }), {
        _grep: grep,
        _invert: invert,
      });
    }

    it("starts the emulator only when the selected tests include @emulator or @host ones", () => {
      expect(selectedTestTitles(runnerFor(/@unit/)).some(needsEmulator)).to.equal(false);
      expect(selectedTestTitles(runnerFor(/@host/)).some(needsEmulator)).to.equal(true);
      expect(selectedTestTitles(runnerFor(/@emulator|@host/, true))).to.deep.equal([
        "area pure @unit",
      ]);
    });

    it("makes unique names that end in a letter, as compute names require", () => {
      const names = Array.from({ length: 50 }, () => uniqueName("cpu"));
      expect(new Set(names).size).to.equal(50);
      for (const name of names) {
        expect(name).to.match(/^cpu-[a-z0-9]+[a-z]$/);
      }
    });
  });

  describe("TLS material and proxy helpers @unit", () => {
    it("accepts a generated CA + loopback certificate and rejects a certificate from another CA", async () => {
      const first = await generateTlsMaterial();
      const second = await generateTlsMaterial();
      expect(findTlsMaterialProblem(first)).to.equal(undefined);
      expect(findTlsMaterialProblem({ ...first, caPem: second.caPem })).to.match(
        /not signed by the CA/,
      );
      expect(findTlsMaterialProblem({ ...first, keyPem: second.keyPem })).to.match(/private key/);
    });

    it("reports material that expires within a week as unusable", async () => {
      const material = await generateTlsMaterial({ validityInDays: 3 });
      expect(findTlsMaterialProblem(material)).to.match(/expires too soon/);
    });

    it("names the package to install when an optional peer dependency is missing", () => {
      let thrown: unknown;
      try {
        requireOptionalPeer(
          "azurite-not-installed/dist/src/blob/BlobServer",
          "the emulator's blob storage",
        );
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(MissingPeerDependencyError);
      expect(thrown).to.include({
        code: "EMULATOR_MISSING_PEER_DEPENDENCY",
        packageName: "azurite-not-installed",
      });
      expect((thrown as Error).message).to.contain("npm install --save-dev azurite-not-installed");
    });

    it("drops hop-by-hop headers but keeps Host, auth and content headers", () => {
      const kept = withoutHopByHopHeaders([
        "Host",
        "127.0.0.1:1",
        "Connection",
        "keep-alive",
        "Authorization",
        "SharedKey a:b",
        "Keep-Alive",
        "timeout=5",
        "Content-Length",
        "5",
        "Expect",
        "100-continue",
      ]);
      expect(kept).to.deep.equal([
        "Host",
        "127.0.0.1:1",
        "Authorization",
        "SharedKey a:b",
        "Content-Length",
        "5",
      ]);
    });

    it("answers blob faults with Storage error codes", () => {
      expect(storageErrorCode(503)).to.equal("ServerBusy");
      expect(storageErrorCode(500)).to.equal("InternalError");
      expect(storageErrorCode(408)).to.equal("OperationTimedOut");
    });
  });

  describe("over HTTPS @emulator", () => {
    it("is trusted by a child node process through NODE_EXTRA_CA_CERTS, and refused without it", async () => {
      const { info } = getEmulator();
      const script =
        "require('https').get(process.argv[1], { headers: { authorization: 'Bearer ' + process.env.TOKEN } }, " +
        "(r) => { console.log(JSON.stringify({ status: r.statusCode })); r.resume(); })" +
        ".on('error', (e) => console.log(JSON.stringify({ error: e.code })));";
      const target = `${info.armEndpoint}${info.workspaceId}?api-version=${API_VERSION}`;
      const env: NodeJS.ProcessEnv = { ...process.env, TOKEN: info.token };
      delete env.NODE_EXTRA_CA_CERTS;

      const trusted = await execFileAsync(process.execPath, ["-e", script, target], {
        env: { ...env, NODE_EXTRA_CA_CERTS: info.caCertPath },
      });
      expect(JSON.parse(trusted.stdout)).to.deep.equal({ status: 200 });

      const untrusted = await execFileAsync(process.execPath, ["-e", script, target], { env });
      expect(JSON.parse(untrusted.stdout).error).to.match(/CERT|SIGNATURE/);
    });

    it("is trusted by an undici Agent given the CA as connect.ca, and refused with another CA", async () => {
      const { info } = getEmulator();
      const ok = await armGet(info, info.workspaceId);
      expect(ok.status).to.equal(200);
      expect(ok.body.name).to.equal(info.workspaceName);

      const stranger = new Agent({ connect: { ca: (await generateTlsMaterial()).caPem } });
      try {
        const failure = await request(
          `${info.armEndpoint}${info.workspaceId}?api-version=${API_VERSION}`,
          {
            dispatcher: stranger,
          },
        ).then(
          () => undefined,
          (error: NodeJS.ErrnoException) => error,
        );
        expect(failure?.code).to.match(/CERT|SIGNATURE/);
      } finally {
        await stranger.close();
      }
    });
  });

  describe("malformed requests @emulator", () => {
    // Request lines Node's parser accepts but that are no URL (`//[`, `http://[`), bad escapes,
    // and bytes that are no HTTP at all.
    const MALFORMED = [
      "GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      "GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      "GET /%E0%A4%A?x=%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      "PUT //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
      "\u0000\u0001 nonsense\r\n\r\n",
    ];

    it("answers malformed request lines on every listener with an HTTP error and keeps serving", async () => {
      const emulator = getEmulator();
      const { info } = emulator;
      const ca = readFileSync(info.caCertPath, "utf8");
      const listeners = [
        { name: "arm", port: portOf(info.armEndpoint), ca },
        { name: "blob", port: portOf(info.blobEndpoint), ca },
        { name: "identity", port: portOf(info.identityEndpoint), ca: undefined },
      ];
      const statusLines: Record<string, string[]> = {};
      for (const listener of listeners) {
        statusLines[listener.name] = [];
        for (const text of MALFORMED) {
          const answer = await rawExchange(listener.port, text, listener.ca);
          statusLines[listener.name].push(answer.split("\r\n")[0]);
        }
      }
      for (const lines of Object.values(statusLines)) {
        for (const line of lines) {
          expect(line).to.match(/^HTTP\/1\.1 [45]\d\d /);
        }
      }
      // The identity endpoint and the blob front door say why: the target is no URL.
      expect(statusLines.identity[0]).to.equal("HTTP/1.1 400 Bad Request");
      expect(statusLines.blob[0]).to.equal("HTTP/1.1 400 Bad Request");

      expect((await armGet(info, info.workspaceId)).status).to.equal(200);
      const token = await request(
        `${info.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent("https://management.azure.com")}`,
        { headers: { "X-IDENTITY-HEADER": info.identityHeader } },
      );
      expect(token.statusCode).to.equal(200);
      await token.body.dump();
      const container = containerClient(info, uniqueName("after-malformed"));
      await container.create();
      expect(await container.exists()).to.equal(true);
    });
  });

  describe("managed identity @emulator", () => {
    it("gives DefaultAzureCredential an ARM token the control plane accepts and an Azure ML token", async () => {
      const { info } = getEmulator();
      const credential = new DefaultAzureCredential();
      const arm = await credential.getToken("https://management.azure.com/.default");
      const ml = await credential.getToken("https://ml.azure.com/.default");

      expect(arm.expiresOnTimestamp).to.be.greaterThan(Date.now());
      expect(decodeJwt(arm.token)).to.deep.include({
        kid: "azureml-emulator",
        aud: "https://management.azure.com",
      });
      expect(decodeJwt(ml.token)).to.deep.include({
        kid: "azureml-emulator",
        aud: "https://ml.azure.com",
      });
      const workspace = await armGet(info, info.workspaceId, arm.token);
      expect(workspace.status).to.equal(200);
    });

    it("serves a fresh process's DefaultAzureCredential from IDENTITY_ENDPOINT, once per resource", async () => {
      // MSAL caches managed-identity tokens process-wide, so only a new process shows the calls.
      const emulator = getEmulator();
      const mark = emulator.requests.mark();
      const script =
        "const { DefaultAzureCredential } = require('@azure/identity'); const c = new DefaultAzureCredential();" +
        "Promise.all(['https://management.azure.com/.default', 'https://ml.azure.com/.default'].map((s) => c.getToken(s)))" +
        ".then((t) => console.log(JSON.stringify(t.map((x) => x.token.length > 0))), (e) => console.log(JSON.stringify(e.message)));";
      const { stdout } = await execFileAsync(process.execPath, ["-e", script], {
        cwd: process.cwd(),
      });
      expect(JSON.parse(stdout)).to.deep.equal([true, true]);

      const calls = emulator.requests.since(mark).filter((r) => r.plane === "identity");
      expect(calls.map((r) => r.status)).to.deep.equal([200, 200]);
      expect(calls.map((r) => new URLSearchParams(r.query).get("resource")).sort()).to.deep.equal([
        "https://management.azure.com",
        "https://ml.azure.com",
      ]);
    });

    it("refuses a token request whose X-IDENTITY-HEADER does not match with 403", async () => {
      const { info } = getEmulator();
      const response = await request(
        `${info.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent("https://management.azure.com")}`,
        { headers: { "X-IDENTITY-HEADER": `${info.identityHeader}-wrong` } },
      );
      expect(response.statusCode).to.equal(403);
      expect(((await response.body.json()) as any).access_token).to.equal(undefined);
    });
  });

  describe("blob front door @emulator", () => {
    // A failed test must not leave blob faults behind for the rest of the run.
    beforeEach(() => getEmulator().faults.clear());
    afterEach(() => getEmulator().faults.clear());

    it("proxies a real @azure/storage-blob upload and download, and logs each PUT", async () => {
      const emulator = getEmulator();
      const container = containerClient(emulator.info, uniqueName("runtime"));
      const mark = emulator.requests.mark();
      await container.create();
      const blob = container.getBlockBlobClient("folder/hello.txt");
      await blob.upload("hello, blob", 11);
      expect((await blob.downloadToBuffer()).toString("utf8")).to.equal("hello, blob");

      const puts = emulator.requests
        .since(mark)
        .filter((r) => r.plane === "blob" && r.method === "PUT");
      expect(puts.map((r) => r.status)).to.deep.equal([201, 201]);
      expect(puts[1].path).to.equal(
        `/${emulator.info.storageAccountName}/${container.containerName}/folder/hello.txt`,
      );
    });

    it("passes SAS-signed requests through to Azurite's signature check, and logs them without the signature", async () => {
      const emulator = getEmulator();
      const { info } = emulator;
      const mark = emulator.requests.mark();
      const container = containerClient(info, uniqueName("sas"));
      await container.create();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container.containerName,
          blobName: "via-sas.txt",
          permissions: BlobSASPermissions.parse("cw"),
          expiresOn: new Date(Date.now() + 3600_000),
        },
        new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
      ).toString();
      const blob = new BlockBlobClient(
        `${info.blobEndpoint}${container.containerName}/via-sas.txt?${sas}`,
      );
      await blob.upload("sas", 3);
      const forged = new BlockBlobClient(
        `${info.blobEndpoint}${container.containerName}/via-sas.txt?${sas.replace(/sig=[^&]+/, "sig=AAAA")}`,
        undefined,
        { retryOptions: { maxTries: 1 } },
      );
      const refused = await forged.upload("x", 1).then(
        () => undefined,
        (error: { statusCode?: number }) => error,
      );
      expect(refused?.statusCode).to.equal(403);
      const signed = emulator.requests
        .since(mark)
        .filter((r) => r.plane === "blob" && r.query.includes("sig="));
      expect(signed.map((r) => r.status)).to.deep.equal([201, 403]);
      for (const record of signed) {
        expect(new URLSearchParams(record.query).get("sig")).to.equal("REDACTED");
      }
    });

    it("injects a 503 into a blob PUT, which the storage SDK retries to success", async () => {
      const emulator = getEmulator();
      const container = containerClient(emulator.info, uniqueName("fault"));
      await container.create();
      emulator.faults.add({
        kind: "status",
        status: 503,
        plane: "blob",
        method: "PUT",
        path: "/retried.txt",
      });
      const mark = emulator.requests.mark();
      await container.getBlockBlobClient("retried.txt").upload("ok", 2);

      const puts = emulator.requests.since(mark).filter((r) => r.method === "PUT");
      expect(puts.map((r) => [r.status, r.fault])).to.deep.equal([
        [503, "status"],
        [201, undefined],
      ]);
      expect(puts[0].clientRequestId).to.be.a("string").and.equal(puts[1].clientRequestId);
    });

    it("drops a blob connection once, which the storage SDK retries to success", async () => {
      const emulator = getEmulator();
      const container = containerClient(emulator.info, uniqueName("drop"));
      await container.create();
      emulator.faults.add({ kind: "drop", plane: "blob", method: "PUT", path: "/dropped.txt" });
      const mark = emulator.requests.mark();
      await container.getBlockBlobClient("dropped.txt").upload("ok", 2);

      const puts = emulator.requests.since(mark).filter((r) => r.method === "PUT");
      expect(puts.map((r) => [r.status, r.fault])).to.deep.equal([
        [0, "drop"],
        [201, undefined],
      ]);
    });
  });

  describe("persistence @emulator", () => {
    let dataDir: string;
    let running: RunningEmulator | undefined;

    beforeEach(async () => {
      dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-emulator-data-"));
    });

    afterEach(async () => {
      await running?.close();
      running = undefined;
      await fs.rm(dataDir, { recursive: true, force: true });
    });

    it("keeps an environment version and a blob across a restart with the same dataDir", async () => {
      running = await startEmulator({ dataDir, certDir: testCertDir() });
      const first = running.info;
      const versionPath = `${first.workspaceId}/environments/${uniqueName("env")}/versions/1`;
      const created = await armPut(first, versionPath, environmentBody());
      expect(created.status).to.equal(201);
      const container = containerClient(first, "persisted");
      await container.createIfNotExists();
      await container.getBlockBlobClient("kept.txt").upload("kept", 4);
      const oldPorts = [first.armEndpoint, first.blobEndpoint, running.azuriteUrl].map(portOf);
      await running.close();
      running = undefined;
      expect(await Promise.all(oldPorts.map(isPortOpen))).to.deep.equal([false, false, false]);

      running = await startEmulator({ dataDir, certDir: testCertDir() });
      const again = await armGet(running.info, versionPath);
      expect(again.status).to.equal(200);
      expect(again.body.properties.image).to.equal(environmentBody().properties.image);
      const blob = containerClient(running.info, "persisted").getBlockBlobClient("kept.txt");
      expect((await blob.downloadToBuffer()).toString("utf8")).to.equal("kept");
    });
  });

  describe("shutdown with a pending latency fault @emulator", () => {
    // Runs in a child process: only a process of its own shows whether a timer outlives close().
    const CHILD = `
      const fs = require("node:fs");
      const https = require("node:https");
      const path = require("node:path");
      const { startEmulator } = require(process.argv[1]);
      const [, , certDir, dataDir] = process.argv;
      (async () => {
        const emulator = await startEmulator({ certDir, dataDir });
        const { info } = emulator;
        emulator.faults.add({ kind: "latency", latencyInMs: 600000, method: "PUT", path: "/environments/" });
        const url = new URL(info.workspaceId + "/environments/slow/versions/1?api-version=2024-04-01", info.armEndpoint);
        let client = "pending";
        const req = https.request(url, {
          method: "PUT",
          ca: fs.readFileSync(info.caCertPath),
          headers: { authorization: "Bearer " + info.token, "content-type": "application/json" },
        }, (res) => { client = "status " + res.statusCode; res.resume(); });
        req.on("error", (error) => { client = error.code || error.message; });
        req.end(JSON.stringify({ properties: { image: "img" } }));
        while (emulator.faults.list().length > 0) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        await emulator.close();
        const state = JSON.parse(fs.readFileSync(path.join(dataDir, "control-plane.json"), "utf8"));
        const stored = Object.keys(state.collections["assetVersions:environments"] || {});
        process.on("exit", () => {
          const puts = emulator.requests.all().filter((r) => r.method === "PUT");
          console.log(JSON.stringify({
            pendingDelays: emulator.faults.pendingDelays(),
            stored,
            puts: puts.map((r) => [r.status, r.fault]),
            client,
          }));
        });
      })().catch((error) => { console.error(error); process.exit(3); });
    `;

    it("close() resolves, cancels the delayed request without serving it, and leaves nothing keeping the process alive", async function () {
      this.timeout(120_000);
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-emulator-latency-"));
      try {
        const child = spawn(
          process.execPath,
          [
            "-e",
            CHILD,
            path.join(__dirname, "..", "..", "emulator", "index.js"),
            testCertDir(),
            dataDir,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
        // Only a guard against a hang (the latency is ten minutes), not a measurement.
        let deadline: NodeJS.Timeout | undefined;
        const code = await Promise.race([
          new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c))),
          new Promise<"hung">((resolve) => {
            deadline = setTimeout(() => resolve("hung"), 90_000);
          }),
        ]);
        clearTimeout(deadline);
        if (code === "hung") {
          child.kill("SIGKILL");
        }
        expect(code, stderr).to.equal(0);
        expect(JSON.parse(stdout.trim().split("\n").pop() as string)).to.deep.equal({
          pendingDelays: 0,
          stored: [],
          puts: [[0, "latency"]],
          client: "ECONNRESET",
        });
      } finally {
        await fs.rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe("azureml-emulator CLI @emulator", () => {
    it("exits with the usage code 2, before starting anything, on a bad fault rule or progression", async () => {
      for (const args of [
        ["--fault", '{"kind":"drop","method":5}'],
        ["--fault", '{"kind":"latency","latencyInMs":1e12}'],
        ["--progression", "polls:0"],
      ]) {
        const outcome = await execFileAsync(process.execPath, [MAIN_JS, ...args]).then(
          () => ({ code: 0, stderr: "", stdout: "" }),
          (error: { code: number; stderr: string; stdout: string }) => error,
        );
        expect(outcome.code, args.join(" ")).to.equal(2);
        expect(outcome.stdout).to.equal("");
        expect(outcome.stderr).to.contain("Usage: azureml-emulator");
      }
    });

    it("copies blobs with a SAS on the source, synchronously and not, when its own process does not trust its CA", async () => {
      const env = { ...process.env };
      delete env.NODE_EXTRA_CA_CERTS;
      const child = spawn(process.execPath, [MAIN_JS, "--cert-dir", testCertDir()], {
        stdio: ["ignore", "pipe", "pipe"],
        env,
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => resolve(code)),
      );
      try {
        const firstLine = await new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", resolve);
          child.once("exit", (code) => reject(new Error(`CLI exited with ${code}`)));
        });
        const info = JSON.parse(firstLine) as EmulatorInfo;
        const container = containerClient(info, uniqueName("copies"));
        await container.create();
        const source = container.getBlockBlobClient("source.bin");
        const bytes = Buffer.from("bytes copied on the service side\n");
        await source.upload(bytes, bytes.length);
        const sas = generateBlobSASQueryParameters(
          {
            containerName: container.containerName,
            blobName: source.name,
            permissions: BlobSASPermissions.parse("r"),
            expiresOn: new Date(Date.now() + 3600_000),
          },
          new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
        ).toString();
        // Azurite checks the source's SAS by reading the source URL: this front door's HTTPS.
        const synchronous = container.getBlobClient("sync-copy.bin");
        expect((await synchronous.syncCopyFromURL(`${source.url}?${sas}`)).copyStatus).to.equal(
          "success",
        );
        const target = container.getBlobClient("copy.bin");
        const poller = await target.beginCopyFromURL(`${source.url}?${sas}`, {
          intervalInMs: 100,
        });
        expect((await poller.pollUntilDone()).copyStatus).to.equal("success");
        for (const copy of [synchronous, target]) {
          expect((await copy.downloadToBuffer()).equals(bytes), copy.name).to.equal(true);
        }
        // As on Azure, a source SAS that does not verify is refused (Azurite checks it for an
        // asynchronous copy only; see emulator/DIFFERENCES.md).
        const forged = sas.replace(/sig=[^&]+/, "sig=Zm9yZ2Vk");
        const refused = await container
          .getBlobClient("refused.bin")
          .beginCopyFromURL(`${source.url}?${forged}`)
          .then(
            () => undefined,
            (error: { statusCode?: number; code?: string }) => error,
          );
        expect(refused).to.include({ statusCode: 403, code: "CannotVerifyCopySource" });
      } finally {
        child.kill("SIGTERM");
        await exited;
      }
    });

    it("prints one JSON line with every EmulatorInfo field, serves it, and exits 0 on SIGTERM", async () => {
      const child = spawn(
        process.execPath,
        [MAIN_JS, "--cert-dir", testCertDir(), "--progression", "immediate"],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const stdoutLines: string[] = [];
      let stderr = "";
      const azuriteLine = /Azurite http:\/\/127\.0\.0\.1:(\d+)/;
      // The CLI prints its stderr summary after the JSON line: wait for it, never assume it.
      const azuritePortFromStderr = new Promise<number>((resolve, reject) => {
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
          const match = azuriteLine.exec(stderr);
          if (match !== null) {
            resolve(Number(match[1]));
          }
        });
        child.once("exit", (code) =>
          reject(new Error(`CLI exited with ${code} before naming Azurite: ${stderr}`)),
        );
      });
      // Awaited below; this only keeps an early exit from also being an unhandled rejection.
      azuritePortFromStderr.catch(() => undefined);
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => resolve(code)),
      );
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => stdoutLines.push(line));
      const firstLine = await new Promise<string>((resolve, reject) => {
        lines.once("line", resolve);
        child.once("exit", (code) => reject(new Error(`CLI exited with ${code}: ${stderr}`)));
      });
      const info = JSON.parse(firstLine) as EmulatorInfo;
      expect(Object.keys(info).sort()).to.deep.equal(
        [
          "armEndpoint",
          "blobEndpoint",
          "caCertPath",
          "identityEndpoint",
          "identityHeader",
          "location",
          "mlToken",
          "proxyUrl",
          "resourceGroupName",
          "storageAccountName",
          "subscriptionId",
          "token",
          "workspaceId",
          "workspaceName",
        ].sort(),
      );
      const workspace = await armGet(info, info.workspaceId);
      expect(workspace.status).to.equal(200);
      const azuritePort = await azuritePortFromStderr;
      expect(await isPortOpen(azuritePort)).to.equal(true);

      child.kill("SIGTERM");
      expect(await exited).to.equal(0);
      expect(stdoutLines).to.have.length(1);
      expect(await isPortOpen(azuritePort)).to.equal(false);
      expect(await isPortOpen(portOf(info.armEndpoint))).to.equal(false);
    });
  });
});
