// What clients other than this package send, against the shared emulator: the api-versions
// Microsoft's SDKs and public scripts use, their older body shapes, bodies built the way shell
// scripts build them, and the response fields Microsoft's deserializers read.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { Agent, request } from "undici";
import { getEmulator, uniqueName } from "../support/emulator";
import { PUBLISHED_ML_API_VERSIONS, apiVersionProfile } from "../../emulator/spec/apiVersions";

interface Reply {
  status: number;
  body: any;
  text: string;
}

let agent: Agent | undefined;

/** Sends `text` as the body byte for byte (what `curl -d "$BODY"` sends). */
async function send(
  method: string,
  path: string,
  apiVersion: string,
  text?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const { info } = getEmulator();
  agent ??= new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
  const url = `${info.armEndpoint}${path}${path.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
  const response = await request(url, {
    method: method as "GET",
    headers: {
      authorization: `Bearer ${info.token}`,
      ...(text === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: text,
    dispatcher: agent,
  });
  const body = await response.body.text();
  return {
    status: response.statusCode,
    text: body,
    body: body === "" ? undefined : JSON.parse(body),
  };
}

const ws = () => getEmulator().info.workspaceId;

describe("api-versions Microsoft's clients send", () => {
  it("lists every published version once, in date order, with a profile each @unit", () => {
    const versions = PUBLISHED_ML_API_VERSIONS.map((v) => v.version);
    expect(new Set(versions).size).to.equal(versions.length);
    expect([...versions].sort()).to.deep.equal(versions);
    for (const v of versions) {
      expect(apiVersionProfile(v), v).to.not.equal(undefined);
    }
    expect(apiVersionProfile("2021-03-01-preview")?.shapes).to.equal("2021-03-01-preview");
    expect(apiVersionProfile("2023-08-01-preview")).to.include({
      shapes: "2024-04-01",
      newerFields: false,
    });
    expect(apiVersionProfile("2025-01-01-preview")?.newerFields).to.equal(true);
    expect(apiVersionProfile("2024-05-01")).to.equal(undefined);
  });

  it("answers the versions azure-ai-ml 1.x and the public scripts send @emulator", async () => {
    const calls: Array<[string, string]> = [
      ["2024-10-01-preview", ""],
      ["2024-10-01-preview", "/datastores"],
      ["2023-04-01-preview", "/environments"],
      ["2023-04-01-preview", "/data"],
      ["2023-08-01-preview", "/models"],
      ["2025-01-01-preview", "/jobs"],
      ["2021-03-01-preview", "/computes"],
      ["2021-10-01", "/batchEndpoints"],
      ["2022-05-01", "/codes"],
      ["2022-02-01-preview", "/data"],
    ];
    for (const [version, child] of calls) {
      const r = await send("GET", `${ws()}${child}`, version);
      expect(r.status, `${child || "workspace"} at ${version}: ${r.text}`).to.equal(200);
    }
  });

  it("refuses a version Azure never published, and a v2 type at a version that predates it, as ARM does @emulator", async () => {
    const never = await send("GET", `${ws()}/codes`, "2024-05-01");
    expect(never.status).to.equal(400);
    expect(never.body.error.code).to.equal("NoRegisteredProviderFound");
    expect(never.body.error.message).to.contain("'2024-05-01'").and.contain("2021-03-01-preview");
    // 2021-07-01 published workspaces and computes only (no mfe.json).
    expect((await send("GET", `${ws()}/computes`, "2021-07-01")).status).to.equal(200);
    const early = await send("GET", `${ws()}/codes`, "2021-07-01");
    expect(early.body.error.code).to.equal("NoRegisteredProviderFound");
  });

  it("stores 2021-03-01-preview code, data and model versions given as { datastoreId, path } and reads them back in both shapes @emulator", async () => {
    const name = uniqueName("legacy");
    const datastoreId = `${ws()}/datastores/workspaceblobstore`;
    const code = await send(
      "PUT",
      `${ws()}/codes/${name}/versions/1`,
      "2021-03-01-preview",
      JSON.stringify({ properties: { datastoreId, path: "src" } }),
    );
    expect(code.status, code.text).to.be.oneOf([200, 201]);
    expect(code.body.properties).to.include({ datastoreId, path: "src" });
    expect(code.body.properties).to.not.have.property("codeUri");
    const current = await send("GET", `${ws()}/codes/${name}/versions/1`, "2024-04-01");
    expect(current.body.properties.codeUri).to.equal(
      "azureml://datastores/workspaceblobstore/paths/src",
    );

    const data = await send(
      "PUT",
      `${ws()}/data/${name}/versions/1`,
      "2021-03-01-preview",
      JSON.stringify({
        properties: { datasetType: "Simple", path: "https://example.org/iris.csv" },
      }),
    );
    expect(data.status, data.text).to.be.oneOf([200, 201]);
    expect(data.body.properties).to.include({
      datasetType: "Simple",
      path: "https://example.org/iris.csv",
    });
    const dataNow = await send("GET", `${ws()}/data/${name}/versions/1`, "2024-04-01");
    expect(dataNow.body.properties).to.include({
      dataType: "uri_file",
      dataUri: "https://example.org/iris.csv",
    });

    const model = await send(
      "PUT",
      `${ws()}/models/${name}/versions/1`,
      "2021-03-01-preview",
      JSON.stringify({ properties: { datastoreId, path: "models/m" } }),
    );
    expect(model.status, model.text).to.be.oneOf([200, 201]);
    expect(model.body.properties).to.include({ datastoreId, path: "models/m" });
  });

  it("stores a 2021-03-01-preview environment with PascalCase Docker keys, as the seed documents send it @emulator", async () => {
    const name = uniqueName("legacy-env");
    const r = await send(
      "PUT",
      `${ws()}/environments/${name}/versions/1`,
      "2021-03-01-preview",
      `{"properties":{"condaFile":"name: x","Docker":{"DockerSpecificationType":"Image","DockerImageUri":"mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04"}}}`,
    );
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    expect(r.body.properties.docker).to.deep.equal({
      dockerSpecificationType: "Image",
      dockerImageUri: "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04",
    });
    const now = await send("GET", `${ws()}/environments/${name}/versions/1`, "2024-04-01");
    expect(now.body.properties.image).to.equal(
      "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04",
    );
  });

  it("takes and returns 2022-02-01-preview's UriFile/UriFolder spelling of data types @emulator", async () => {
    const name = uniqueName("pascal");
    const r = await send(
      "PUT",
      `${ws()}/data/${name}/versions/1`,
      "2022-02-01-preview",
      JSON.stringify({ properties: { dataType: "UriFolder", dataUri: "https://example.org/d/" } }),
    );
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    expect(r.body.properties.dataType).to.equal("UriFolder");
    const now = await send("GET", `${ws()}/data/${name}/versions/1`, "2024-04-01");
    expect(now.body.properties.dataType).to.equal("uri_folder");
  });
});

describe("2021-03-01-preview datastores and batch endpoints, through the router", () => {
  it("creates a datastore given as contents and reads it back in both shapes @emulator", async () => {
    const name = uniqueName("legacyds").replace(/-/g, "_");
    const { info } = getEmulator();
    const put = await send(
      "PUT",
      `${ws()}/datastores/${name}`,
      "2021-03-01-preview",
      JSON.stringify({
        properties: {
          contents: {
            contentsType: "AzureBlob",
            accountName: info.storageAccountName,
            containerName: "legacy-container",
            endpoint: "core.windows.net",
            protocol: "https",
            credentials: { credentialsType: "None" },
          },
          description: "made at 2021-03-01-preview",
        },
      }),
    );
    expect(put.status, put.text).to.be.oneOf([200, 201]);
    expect(put.body.properties.contents).to.include({
      contentsType: "AzureBlob",
      containerName: "legacy-container",
    });
    expect(put.body.properties).to.not.have.property("datastoreType");
    const now = await send("GET", `${ws()}/datastores/${name}`, "2024-04-01");
    expect(now.body.properties).to.include({
      datastoreType: "AzureBlob",
      containerName: "legacy-container",
    });
    const refused = await send(
      "PUT",
      `${ws()}/datastores/${name}`,
      "2021-03-01-preview",
      JSON.stringify({ properties: { description: "no contents" } }),
    );
    expect(refused.status).to.equal(400);
    expect(refused.text).to.contain("properties.contents");
  });

  it("answers a batch endpoint with traffic instead of defaults @emulator", async () => {
    const name = uniqueName("legacyep");
    const put = await send(
      "PUT",
      `${ws()}/batchEndpoints/${name}`,
      "2021-03-01-preview",
      JSON.stringify({
        location: getEmulator().info.location,
        properties: { authMode: "AADToken" },
      }),
    );
    expect(put.status, put.text).to.be.oneOf([200, 201]);
    expect(put.body.properties.traffic).to.deep.equal({});
    expect(put.body.properties).to.not.have.property("defaults");
    const listed = await send("GET", `${ws()}/batchEndpoints`, "2021-03-01-preview");
    const mine = listed.body.value.find((e: { name: string }) => e.name === name);
    expect(mine.properties.scoringUri).to.match(/^https:\/\//);
    await send("DELETE", `${ws()}/batchEndpoints/${name}`, "2024-04-01");
  });
});

describe("2021-10-01 job inputs, through the router", () => {
  it("takes a command job with a Dataset input and answers it with 2021-10-01's input types @emulator", async () => {
    const name = uniqueName("v2021job");
    const env = uniqueName("v2021env");
    const envPut = await send(
      "PUT",
      `${ws()}/environments/${env}/versions/1`,
      "2024-04-01",
      JSON.stringify({ properties: { image: "python:3.11-slim" } }),
    );
    expect(envPut.status, envPut.text).to.be.oneOf([200, 201]);
    const data = await send(
      "PUT",
      `${ws()}/data/${name}/versions/1`,
      "2024-04-01",
      JSON.stringify({
        properties: {
          dataType: "uri_folder",
          dataUri: "azureml://datastores/workspaceblobstore/paths/x/",
        },
      }),
    );
    expect(data.status, data.text).to.be.oneOf([200, 201]);
    const dataId = `${ws()}/data/${name}/versions/1`;
    const put = await send(
      "PUT",
      `${ws()}/jobs/${name}`,
      "2021-10-01",
      JSON.stringify({
        properties: {
          jobType: "Command",
          command: "echo ${{inputs.d}}",
          environmentId: `${ws()}/environments/${env}/versions/1`,
          computeId: `${ws()}/computes/cpu-cluster`,
          inputs: { d: { jobInputType: "Dataset", datasetId: dataId, mode: "ReadOnlyMount" } },
          outputs: { out: { jobOutputType: "Uri" } },
        },
      }),
    );
    expect(put.status, put.text).to.be.oneOf([200, 201]);
    expect(put.body.properties.inputs.d).to.deep.include({
      jobInputType: "Dataset",
      datasetId: dataId,
    });
    expect(put.body.properties.outputs.out.jobOutputType).to.equal("Uri");
    const now = await send("GET", `${ws()}/jobs/${name}`, "2024-04-01");
    expect(now.body.properties.inputs.d).to.deep.include({
      jobInputType: "uri_folder",
      uri: dataId,
    });
    await send("POST", `${ws()}/jobs/${name}/cancel`, "2024-04-01");
  });
});

describe("bodies built the way shell scripts build them", () => {
  // What `BODY="{\"properties\": {\"condaFile\": \"$(cat env.yml)\", ...}}"; curl -d "$BODY"` sends.
  const conda = "name: lightgbm\nchannels:\n  - conda-forge\ndependencies:\n\t- python=3.10\n";

  it("accepts raw newlines and tabs in strings, trailing commas and comments, and stores the text exactly @emulator", async () => {
    const name = uniqueName("shell-env");
    const body = `{
  "properties": {
    "condaFile": "${conda}",
    "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", // the base image
    "tags": {"source": 'script',},
  },
}`;
    const r = await send("PUT", `${ws()}/environments/${name}/versions/1`, "2022-05-01", body);
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    expect(r.body.properties.condaFile).to.equal(conda);
    expect(r.body.properties.tags).to.deep.equal({ source: "script" });
  });

  it("accepts numbers sent as strings and enums in another casing, and stays strict after parsing @emulator", async () => {
    const name = uniqueName("shell-data");
    const ok = await send(
      "PUT",
      `${ws()}/data/${name}/versions/1`,
      "2024-04-01",
      `{"properties": {"dataType": "URI_FILE", "dataUri": "https://example.org/iris.csv", "isArchived": "false",}}`,
    );
    expect(ok.status, ok.text).to.be.oneOf([200, 201]);
    expect(ok.body.properties).to.include({ dataType: "uri_file", isArchived: false });
    const unknown = await send(
      "PUT",
      `${ws()}/data/${name}/versions/2`,
      "2024-04-01",
      `{"properties": {"dataType": "uri_file", "dataUri": "https://example.org/a.csv", "dataUrl": "x",}}`,
    );
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error.message).to.contain("dataUrl");
    const broken = await send(
      "PUT",
      `${ws()}/data/${name}/versions/3`,
      "2024-04-01",
      `{"properties": {`,
    );
    expect(broken.status).to.equal(400);
    expect(broken.body.error.code).to.equal("InvalidRequestContent");
  });
});

describe("storage account operations scripts use", () => {
  it("lists the workspace's account by subscription and resource group, and lists its keys @emulator", async () => {
    const { info } = getEmulator();
    const sub = `/subscriptions/${info.subscriptionId}`;
    const rg = `${sub}/resourceGroups/${info.resourceGroupName}`;
    for (const path of [
      `${sub}/providers/Microsoft.Storage/storageAccounts`,
      `${rg}/providers/Microsoft.Storage/storageAccounts`,
    ]) {
      const r = await send("GET", path, "2023-05-01");
      expect(r.status, r.text).to.equal(200);
      expect(r.body.value.map((a: any) => a.name)).to.deep.equal([info.storageAccountName]);
    }
    const keys = await send(
      "POST",
      `${rg}/providers/Microsoft.Storage/storageAccounts/${info.storageAccountName}/listKeys`,
      "2023-05-01",
    );
    expect(keys.status, keys.text).to.equal(200);
    expect(keys.body.keys.map((k: any) => k.keyName)).to.deep.equal(["key1", "key2"]);
    expect(keys.body.keys[0].value).to.be.a("string").and.not.equal("");
    const other = await send(
      "POST",
      `${rg}/providers/Microsoft.Storage/storageAccounts/nope/listKeys`,
      "2023-05-01",
    );
    expect(other.status).to.equal(404);
  });
});

describe("resource types the emulator does not serve", () => {
  it("answers 501 NotImplemented naming an RP type Azure serves (online endpoints), and 404 for a type Azure lacks @emulator", async () => {
    const online = await send("GET", `${ws()}/onlineEndpoints/scorer`, "2024-04-01");
    expect(online.status).to.equal(501);
    expect(online.body.error.code).to.equal("NotImplemented");
    expect(online.body.error.message)
      .to.contain("'workspaces/onlineEndpoints'")
      .and.contain("does not serve");
    const components = await send("PUT", `${ws()}/components/c/versions/1`, "2024-04-01", "{}");
    expect(components.status).to.equal(501);
    const widgets = await send("GET", `${ws()}/widgets`, "2024-04-01");
    expect(widgets.status).to.equal(404);
    expect(widgets.body.error.code).to.equal("InvalidResourceType");
  });
});

describe("connecting as Microsoft's SDKs connect", () => {
  it("serves ARM's metadata document without a token, naming the emulator's endpoints, in both api-version forms @emulator", async () => {
    const { info } = getEmulator();
    agent ??= new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
    const get = async (apiVersion: string) => {
      const r = await request(`${info.armEndpoint}/metadata/endpoints?api-version=${apiVersion}`, {
        dispatcher: agent,
      });
      return { status: r.statusCode, body: (await r.body.json()) as any };
    };
    const list = await get("2019-05-01"); // azure-ai-ml's default metadata URL
    expect(list.status).to.equal(200);
    expect(list.body).to.be.an("array").with.length(1);
    const cloud = list.body[0];
    // azure-ai-ml picks the cloud whose resourceManager is part of ARM_CLOUD_METADATA_URL.
    expect(`${info.armEndpoint}/metadata/endpoints?api-version=2019-05-01`).to.contain(
      cloud.resourceManager,
    );
    expect(cloud).to.include({ name: "AzureMLEmulator", portal: "https://portal.azure.com" });
    expect(cloud.authentication.loginEndpoint).to.be.a("string");
    expect(cloud.suffixes.storage).to.be.a("string");
    const single = await get("2022-09-01"); // Azure CLI's
    expect(single.body).to.include({ resourceManager: cloud.resourceManager });
  });

  it("issues a token for the ARM endpoint's own URL, as a client configured from the metadata asks, and ARM takes it @emulator", async () => {
    const { info } = getEmulator();
    for (const resource of [info.armEndpoint, `${info.armEndpoint}/`]) {
      const url = `${info.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`;
      const r = await request(url, { headers: { "x-identity-header": info.identityHeader } });
      const body = (await r.body.json()) as any;
      expect(r.statusCode, JSON.stringify(body)).to.equal(200);
      const reply = await request(`${info.armEndpoint}${ws()}?api-version=2024-10-01-preview`, {
        headers: { authorization: `Bearer ${body.access_token}` },
        dispatcher: agent,
      });
      await reply.body.text();
      expect(reply.statusCode).to.equal(200);
    }
  });
});

describe("response fields Microsoft's deserializers read", () => {
  it("returns flavors on every model version, {} when none were given (azure-ai-ml iterates it) @emulator", async () => {
    const name = uniqueName("flavors");
    const r = await send(
      "PUT",
      `${ws()}/models/${name}/versions/1`,
      "2023-08-01-preview",
      JSON.stringify({
        properties: { modelUri: "https://example.org/m/", modelType: "custom_model" },
      }),
    );
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    expect(r.body.properties.flavors).to.deep.equal({});
    const listed = await send("GET", `${ws()}/models/${name}/versions`, "2023-08-01-preview");
    expect(listed.body.value[0].properties.flavors).to.deep.equal({});
  });
});
