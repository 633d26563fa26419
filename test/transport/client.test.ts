import { expect } from "chai";
import { promises as fs } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { createControlPlane, type ControlPlane } from "../../emulator/app";
import { generateTlsMaterial } from "../../emulator/tls";
import { decodeToken, mintEmulatorTokens } from "../../emulator/tokens";
import { createAzureMlClient } from "../../provider/core/client";
import { createLogger } from "../../provider/core/logger";
import {
  AccessTokenError,
  AzureMlRestError,
  NetworkError,
  isAzureMlRestError,
} from "../../provider/core/errors";
import { assetContainerId, assetVersionId, workspaceId } from "../../provider/core/ids";
import { getEmulator, uniqueName } from "../support/emulator";
import {
  attemptsOf,
  environmentBody,
  newClient,
  rejectionOf,
  transportSettings,
  workspaceScope,
} from "./support";

const staticCredential = (token: string): TokenCredential => ({
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
});

describe("the REST client against the emulator @emulator", () => {
  it("logs each attempt at verbose with redacted URLs and never the Authorization header", async () => {
    const lines: string[] = [];
    const logger = createLogger("verbose", (line) => lines.push(line));
    const { client } = newClient({}, { logger });
    getEmulator().faults.add({ kind: "status", status: 503, method: "GET", path: "/workspaces/" });
    await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    // The strict emulator rejects the unknown parameter; the log line is what matters here.
    await rejectionOf(
      client.request({
        method: "GET",
        path: workspaceId(workspaceScope()),
        query: { sig: "very-secret" },
        operation: "Workspaces_Get",
      }),
    );
    const text = lines.join("\n");
    expect(
      lines.filter((l) => l.startsWith("azureml:verbose Workspaces_Get: GET ")),
    ).to.have.length(3);
    expect(
      lines.some((l) => /^azureml:verbose Workspaces_Get: 503 from GET .* in \d+ ms/.test(l)),
    ).to.equal(true);
    expect(
      lines.some((l) =>
        /^azureml:info Workspaces_Get: attempt 1 got 503; retrying in \d+ ms/.test(l),
      ),
    ).to.equal(true);
    expect(text).to.include("sig=REDACTED").and.not.include("very-secret");
    expect(text.toLowerCase()).to.not.include("bearer").and.not.include("authorization");
  });

  it("creates, reads, lists and deletes an asset version with the convenience methods", async () => {
    const { client } = newClient();
    const scope = workspaceScope();
    const name = uniqueName("env");
    const path = assetVersionId(scope, "environments", name, "1");
    const created = await client.put<{ id: string; properties: { description: string } }>(
      path,
      environmentBody("first"),
      "EnvironmentVersions_CreateOrUpdate",
    );
    expect(created.id.toLowerCase()).to.equal(path.toLowerCase());
    expect(
      (await client.get<typeof created>(path, "EnvironmentVersions_Get")).properties.description,
    ).to.equal("first");
    const listed = await client.list<{ name: string }>(
      `${assetContainerId(scope, "environments", name)}/versions`,
      "EnvironmentVersions_List",
    );
    expect(listed.map((v) => v.name)).to.deep.equal(["1"]);
    expect((await client.delete(path, "EnvironmentVersions_Delete")).statusCode).to.be.oneOf([
      200, 204,
    ]);
    expect(await client.getOrUndefined(path, "EnvironmentVersions_Get")).to.equal(undefined);
    // Deleting again is fine: delete is idempotent (ARM answers 204 or 404 for "not there").
    expect((await client.delete(path, "EnvironmentVersions_Delete")).statusCode).to.be.oneOf([
      204, 404,
    ]);
  });

  it("follows nextLink across pages until the list ends", async () => {
    const { client } = newClient();
    const scope = workspaceScope();
    const name = uniqueName("env");
    for (const version of ["1", "2", "3"]) {
      await client.put(
        assetVersionId(scope, "environments", name, version),
        environmentBody(),
        "EnvironmentVersions_CreateOrUpdate",
      );
    }
    const mark = getEmulator().requests.mark();
    const versions = await client.list<{ name: string }>(
      `${assetContainerId(scope, "environments", name)}/versions`,
      "EnvironmentVersions_List",
      { $top: 1 },
    );
    expect(versions.map((v) => v.name).sort()).to.deep.equal(["1", "2", "3"]);
    const pages = getEmulator()
      .requests.since(mark)
      .filter((r) => r.path.endsWith(`/environments/${name}/versions`));
    expect(pages.length).to.be.at.least(3);
    expect(pages.every((r) => r.status === 200)).to.equal(true);
  });

  it("fails a 404 clearly, with the operation name and the service's code", async () => {
    const { client } = newClient();
    const path = assetVersionId(workspaceScope(), "models", uniqueName("missing"), "1");
    const error = await rejectionOf(client.get(path, "ModelVersions_Get"));
    expect(isAzureMlRestError(error)).to.equal(true);
    const rest = error as AzureMlRestError;
    expect(rest.statusCode).to.equal(404);
    expect(rest.message).to.match(
      /^ModelVersions_Get failed: \w+: .*\(HTTP 404, request id [\w-]+\)$/,
    );
    expect(rest.url).to.include("api-version=");
  });

  it("rejects an unexpected success status when expectedStatus is given", async () => {
    const { client } = newClient();
    const error = (await rejectionOf(
      client.request({
        method: "GET",
        path: workspaceId(workspaceScope()),
        operation: "Workspaces_Get",
        expectedStatus: [201],
      }),
    )) as AzureMlRestError;
    expect(error.code).to.equal("UnexpectedStatus");
    expect(error.message).to.include("expected HTTP 201, got 200");
  });

  it("gets its token through DefaultAzureCredential once per scope and reuses it", async () => {
    // The real chain (App Service managed identity served by the emulator), counted from outside.
    const chain = new DefaultAzureCredential();
    const scopes: string[] = [];
    const issued: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope, options) => {
        scopes.push(String(scope));
        const token = await chain.getToken(scope, options);
        issued.push(token?.token ?? "");
        return token;
      },
    };
    const { client } = newClient({}, { credential });
    for (let i = 0; i < 3; i++) {
      await client.get(workspaceId(workspaceScope()), "Workspaces_Get");
    }
    expect(scopes).to.deep.equal(["https://management.azure.com/.default"]);
    // The chain's token came from the emulator's managed-identity endpoint, minted for ARM.
    expect(decodeToken(issued[0])?.claims.aud).to.equal("https://management.azure.com");
  });

  it("surfaces a 401 clearly when the credential's token is wrong, without retrying", async () => {
    const { client } = newClient({}, { credential: staticCredential("not-a-real-token") });
    const error = (await rejectionOf(
      client.get(workspaceId(workspaceScope()), "Workspaces_Get"),
    )) as AzureMlRestError;
    expect(error).to.be.instanceOf(AzureMlRestError);
    expect(error.statusCode).to.equal(401);
    expect(error.code).to.equal("InvalidAuthenticationToken");
    expect(error.message).to.include("The credential was rejected");
    expect(error.message).to.not.include("not-a-real-token");
    expect(attemptsOf(error.clientRequestId)).to.have.length(1);
  });

  it("sends the Azure ML audience token only where asked, so ARM rejects it", async () => {
    const { client } = newClient();
    const error = (await rejectionOf(
      client.request({
        method: "GET",
        path: workspaceId(workspaceScope()),
        operation: "Workspaces_Get",
        audience: "ml",
      }),
    )) as AzureMlRestError;
    expect(error.statusCode).to.equal(401);
  });

  it("names the scope when no token can be obtained, and sends nothing", async () => {
    const { client } = newClient(
      {},
      {
        credential: {
          getToken: async () => {
            throw new Error("no identity here");
          },
        },
      },
    );
    const mark = getEmulator().requests.mark();
    const error = await rejectionOf(client.get(workspaceId(workspaceScope()), "Workspaces_Get"));
    expect(error).to.be.instanceOf(AccessTokenError);
    expect((error as Error).message).to.match(
      /^Could not get an access token for https:\/\/management\.azure\.com\/\.default: Error: no identity here/,
    );
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.plane === "arm"),
    ).to.have.length(0);
  });

  it("trusts a second control plane on a fresh CA only when caCertPath names that CA", async () => {
    // A fresh CA that NODE_EXTRA_CA_CERTS (set for the shared emulator) does not contain.
    const tls = await generateTlsMaterial();
    const tokens = mintEmulatorTokens();
    let controlPlane: ControlPlane | undefined = undefined;
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) =>
      controlPlane!.handle(req, res),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const armEndpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const scope = {
      subscriptionId: "11111111-1111-1111-1111-111111111111",
      resourceGroupName: "rg-second",
      workspaceName: "mlw-second",
    };
    controlPlane = createControlPlane({
      publicUrl: armEndpoint,
      ...scope,
      location: "westeurope",
      tokens,
      storage: {
        accountName: "devstoreaccount1",
        accountKey: "a2V5",
        blobEndpoint: `${armEndpoint}/devstoreaccount1/`,
        createContainer: async () => undefined,
      },
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-transport-ca-"));
    try {
      const caCertPath = path.join(dir, "ca.pem");
      await fs.writeFile(caCertPath, tls.caPem);
      const credential = staticCredential(tokens.arm);

      const untrusted = createAzureMlClient({
        settings: transportSettings({ armEndpoint, caCertPath: undefined }),
        credential,
      });
      const error = (await rejectionOf(
        untrusted.get(workspaceId(scope), "Workspaces_Get"),
      )) as NetworkError;
      expect(error).to.be.instanceOf(NetworkError);
      expect(error.code).to.match(/CERT|SIGNATURE|ISSUER/);
      expect(error.attempts).to.equal(1);
      expect(controlPlane.requests.all()).to.have.length(0);

      const trusted = createAzureMlClient({
        settings: transportSettings({ armEndpoint, caCertPath }),
        credential,
      });
      const workspace = await trusted.get<{ location: string }>(
        workspaceId(scope),
        "Workspaces_Get",
      );
      expect(workspace.location).to.equal("westeurope");
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await controlPlane.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("names the setting when the CA file cannot be read", async () => {
    const client = createAzureMlClient({
      settings: transportSettings({ caCertPath: path.join(os.tmpdir(), uniqueName("missing-ca")) }),
    });
    const error = await rejectionOf(client.get(workspaceId(workspaceScope()), "Workspaces_Get"));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.include("azureml:caCertPath / AZUREML_CA_CERT_PATH");
  });
});

describe("the REST client without a server", () => {
  it("refuses to send a bearer token over plain http @unit", async () => {
    const client = createAzureMlClient({
      settings: {
        armEndpoint: "https://127.0.0.1:9",
        apiVersion: "2025-12-01",
        requestTimeoutInMs: 1000,
        maxRetries: 0,
        retryDelayInMs: 1,
        maxRetryDelayInMs: 1,
        pollIntervalInMs: 1,
        lroTimeoutInMs: 1000,
        armScope: "https://management.azure.com/.default",
        mlScope: "https://ml.azure.com/.default",
      },
      credential: staticCredential("secret-token"),
    });
    const error = await rejectionOf(
      client.request({ method: "GET", url: "http://127.0.0.1:9/x", operation: "Plain" }),
    );
    expect((error as Error).message).to.equal(
      "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.",
    );
  });
});

describe("token scopes @emulator", () => {
  it("asks the credential for the configured ARM scope, as another cloud needs @emulator", async () => {
    const asked: string[] = [];
    const token = getEmulator().info.token;
    const credential: TokenCredential = {
      getToken: async (scopes) => {
        asked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
        return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const { client } = newClient(
      { armScope: "https://management.usgovcloudapi.net/.default" },
      { credential },
    );
    await client.get(workspaceId(workspaceScope()), "Workspaces_Get");
    expect(asked).to.deep.equal(["https://management.usgovcloudapi.net/.default"]);
  });
});
