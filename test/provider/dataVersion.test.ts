import { expect } from "chai";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { getEmulator, uniqueName } from "../support/emulator";
import { uniqueCopy } from "../support/fixtures";
import { checkAndCreate, configuredProvider, UNKNOWN, workspaceInputs } from "../support/providers";

function blobWrites(since: number) {
  return getEmulator()
    .requests.since(since)
    .filter((r) => r.plane === "blob" && r.method === "PUT");
}

describe("DataVersion provider", function () {
  it("registers a remote URI as is, versioned by its content @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const uri = "https://azuremlexampledata.blob.core.windows.net/data/iris.csv";
    const { outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("iris"),
      dataType: "uri_file",
      path: uri,
    });
    expect(outs.dataUri).to.equal(uri);
    expect(outs.assetUri).to.equal(uri);
    expect(outs.version).to.match(/^[0-9a-f]{16}$/);
    expect(outs.uploadedBlobCount).to.equal(0);
  });

  it("uploads a local folder once to the default datastore and registers its azureml:// URI @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const inputs = {
      ...workspaceInputs(),
      name: uniqueName("iris"),
      dataType: "uri_folder",
      // Content no other test registered: uploads are found by content across the workspace.
      path: uniqueCopy("test/fixtures/assets/iris"),
    };
    const mark = getEmulator().requests.mark();
    const first = await checkAndCreate(provider, inputs);
    expect(first.outs.dataUri).to.match(
      /^azureml:\/\/subscriptions\/[^/]+\/resourcegroups\/rg-emulator\/workspaces\/mlw-emulator\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/iris\/$/,
    );
    expect(first.outs.uploadedBlobCount).to.equal(2); // iris.csv and the copy's nonce.txt
    expect(blobWrites(mark).length).to.be.greaterThan(0);

    // A new resource's content is hashed while it is sent to a staging prefix (check no longer
    // hashes it, to read it once), so the same content under a new name is staged again; nothing
    // lands in its datastore folder a second time and the staging blobs are deleted.
    const again = getEmulator().requests.mark();
    const second = await checkAndCreate(provider, { ...inputs, name: uniqueName("iris-again") });
    expect(second.outs.dataUri).to.equal(first.outs.dataUri);
    expect(second.outs.uploadedBlobCount).to.equal(0);
    expect(
      blobWrites(again).filter((r) => !r.path.includes("/LocalUpload/.staging/")),
    ).to.deep.equal([]);
  });

  it("refuses in preview changed content under the same pinned version on the first update after a create, with no request @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const folder = uniqueCopy("test/fixtures/assets/iris");
    const base = {
      ...workspaceInputs(),
      name: uniqueName("iris-pinned"),
      dataType: "uri_folder",
      path: folder,
      version: "1",
    };
    // A new resource's check does not hash its folder, so the state's inputs carry no hash.
    const { id, inputs, outs } = await checkAndCreate(provider, base);
    expect((inputs as any).contentHash).to.equal(undefined);

    writeFileSync(path.join(folder, "nonce.txt"), "changed\n");
    const mark = getEmulator().requests.mark();
    const checked = await provider.check(inputs, base);
    expect(checked.failures ?? []).to.deep.equal([]);
    let refusal: Error | undefined;
    try {
      await provider.diff(id, outs, checked.inputs);
    } catch (error) {
      refusal = error as Error;
    }
    expect(refusal?.message).to.contain('[version] stayed "1"').and.to.contain("immutable");
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("checks the data type against the local path, naming the property, with no request @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const mark = getEmulator().requests.mark();
    const fileAsFolder = await provider.check(
      {},
      {
        ...workspaceInputs(),
        name: "d",
        dataType: "uri_file",
        path: "test/fixtures/assets/iris",
      },
    );
    expect(fileAsFolder.failures![0]).to.deep.include({ property: "path" });
    expect(fileAsFolder.failures![0].reason).to.contain("a file is needed");
    const noTable = await provider.check(
      {},
      { ...workspaceInputs(), name: "d", dataType: "mltable", path: "test/fixtures/assets/iris" },
    );
    expect(noTable.failures![0].reason).to.contain("MLTable");
    const badType = await provider.check(
      {},
      { ...workspaceInputs(), name: "d", dataType: "csv", path: "https://x/y" },
    );
    expect(badType.failures![0].property).to.equal("dataType");
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("refuses a URL carrying a SAS signature, which would sit in the stack state @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const result = await provider.check(
      {},
      {
        ...workspaceInputs(),
        name: "d",
        dataType: "uri_file",
        path: "https://acct.blob.core.windows.net/c/iris.csv?sv=2021-08-06&sp=r&sig=c2VjcmV0",
      },
    );
    expect(result.failures).to.have.length(1);
    expect(result.failures![0].property).to.equal("path");
    expect(result.failures![0].reason).to.contain("SAS").and.not.to.contain("c2VjcmV0");
  });

  it("judges a half-known mltable in preview as unknown content, not as a version @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const result = await provider.check(
      {},
      {
        ...workspaceInputs(),
        name: "d",
        dataType: "mltable",
        path: "azureml://datastores/workspaceblobstore/paths/tables/iris/",
        referencedUris: ["azureml://datastores/workspaceblobstore/paths/a.csv", UNKNOWN],
      },
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.contentHash).to.equal(UNKNOWN);
    expect(result.inputs.version).to.equal(UNKNOWN);
  });

  it("refuses workspaceId together with subscriptionId, naming both @emulator", async () => {
    const provider = await configuredProvider("dataVersion");
    const result = await provider.check(
      {},
      {
        workspaceId: getEmulator().info.workspaceId,
        subscriptionId: getEmulator().info.subscriptionId,
        name: "d",
        dataType: "uri_file",
        path: "https://x/y.csv",
      },
    );
    expect(result.failures!.map((f) => f.property)).to.deep.equal(["workspaceId"]);
    expect(result.failures![0].reason).to.contain("[subscriptionId]");
  });
});
