import {
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from "@azure/storage-blob";
import { expect } from "chai";
import { SAS_VERSION, signContainerSas } from "../../emulator/handlers/sas";

const ACCOUNT = "devstoreaccount1";
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

describe("emulator container SAS", () => {
  it("matches @azure/storage-blob's service SAS for a container (racwl, start and expiry) @unit", () => {
    const startsOn = new Date("2026-01-01T10:00:00.123Z");
    const expiresOn = new Date("2026-01-02T10:00:00.999Z");
    const ours = signContainerSas({
      accountName: ACCOUNT,
      accountKey: KEY,
      containerName: "code-abc",
      startsOn,
      expiresOn,
    });
    const theirs = generateBlobSASQueryParameters(
      {
        containerName: "code-abc",
        permissions: ContainerSASPermissions.parse("racwl"),
        startsOn,
        expiresOn,
        version: SAS_VERSION,
      },
      new StorageSharedKeyCredential(ACCOUNT, KEY),
    ).toString();
    expect(ours).to.equal(theirs);
  });

  it("matches the SDK with a protocol restriction and other permissions @unit", () => {
    const expiresOn = new Date("2030-05-05T05:05:05Z");
    const ours = signContainerSas({
      accountName: ACCOUNT,
      accountKey: KEY,
      containerName: "azureml",
      permissions: "rl",
      protocol: "https",
      expiresOn,
    });
    const theirs = generateBlobSASQueryParameters(
      {
        containerName: "azureml",
        permissions: ContainerSASPermissions.parse("rl"),
        protocol: "https" as never,
        expiresOn,
        version: SAS_VERSION,
      },
      new StorageSharedKeyCredential(ACCOUNT, KEY),
    ).toString();
    expect(ours).to.equal(theirs);
  });
});
