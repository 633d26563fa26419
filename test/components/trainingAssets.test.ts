import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { assetName, childName } from "../../components/derive";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/** setMocks first, then the component module (as Pulumi's own mock tests do). */
async function register(
  build: (m: typeof import("../../components")) => import("../../components").TrainingAssets | void,
): Promise<Registered[]> {
  const seen: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: args.custom ? `${args.name}-id` : undefined,
          state: { ...args.inputs, assetReference: `azureml:${args.inputs.name}:1` },
        };
      },
      call: (args) => args.inputs,
    },
    "components",
    "test",
    false,
  );
  const component = build(await import("../../components/index.js"));
  if (component) {
    const resources = [component, component.code, component.environment, component.data];
    await Promise.all(
      resources.map((r) => (r?.urn as unknown as { promise(): Promise<string> })?.promise()),
    );
  }
  return seen;
}

describe("TrainingAssets component", function () {
  it("names children <name>-<role> and registers them under the component @unit", async () => {
    const seen = await register(
      (m) =>
        new m.TrainingAssets("iris", {
          resourceGroupName: "rg",
          workspaceName: "ws",
          codePath: "src",
          image: "python:3.11",
          dataPath: "data",
          tags: { team: "ml" },
        }),
    );
    const byName = Object.fromEntries(seen.map((r) => [r.name, r]));
    expect(byName.iris.type).to.equal("azureml:components:TrainingAssets");
    expect(byName["iris-code"].type).to.equal("pulumi-nodejs:dynamic/azureml:CodeVersion");
    expect(byName["iris-code"].inputs).to.deep.include({
      name: "iris-code",
      path: "src",
      tags: { team: "ml" },
    });
    expect(byName["iris-env"].inputs).to.deep.include({ name: "iris-env", image: "python:3.11" });
    expect(byName["iris-data"].inputs).to.deep.include({
      name: "iris-data",
      dataType: "uri_folder",
      path: "data",
    });
  });

  it("registers no data asset when no data path is given @unit", async () => {
    const seen = await register(
      (m) =>
        new m.TrainingAssets("nodata", {
          resourceGroupName: "rg",
          workspaceName: "ws",
          codePath: "src",
          buildPath: "docker",
        }),
    );
    expect(seen.map((r) => r.name)).to.have.members(["nodata", "nodata-code", "nodata-env"]);
    expect(seen.find((r) => r.name === "nodata-env")!.inputs.build).to.deep.equal({
      path: "docker",
    });
  });

  it("refuses both or neither of image and buildPath, naming both @unit", async () => {
    const thrown: unknown[] = [];
    await register((m) => {
      for (const images of [{}, { image: "python:3.11", buildPath: "docker" }]) {
        try {
          new m.TrainingAssets("bad", {
            resourceGroupName: "rg",
            workspaceName: "ws",
            codePath: "src",
            ...images,
          });
        } catch (error) {
          thrown.push(error);
        }
      }
    });
    expect(thrown).to.have.length(2);
    for (const error of thrown) {
      expect(String(error)).to.contain("[image]").and.to.contain("[buildPath]");
    }
  });

  it("derives child and asset names from the component name @unit", () => {
    expect(childName("iris", "code")).to.equal("iris-code");
    expect(assetName(undefined, "iris", "env")).to.equal("iris-env");
    expect(assetName("shared-env", "iris", "env")).to.equal("shared-env");
  });
});
