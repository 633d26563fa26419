import { expect } from "chai";
import {
  changedJobFields,
  findBindings,
  lastLines,
  normalizeJobProperties,
  parseIsoDuration,
  substituteBindings,
  unboundReferences,
} from "../../emulator/jobs/spec";

describe("emulator job spec @unit", () => {
  it("finds ${{inputs.x}} and ${{outputs.y}} bindings, with or without inner spaces @unit", () => {
    expect(findBindings("python t.py --a ${{inputs.a}} --b ${{ outputs.model }}")).to.deep.equal([
      { text: "${{inputs.a}}", namespace: "inputs", name: "a" },
      { text: "${{ outputs.model }}", namespace: "outputs", name: "model" },
    ]);
  });

  it("reports bindings to undeclared inputs or outputs, malformed ones, and other namespaces @unit", () => {
    const bad = unboundReferences(
      "x ${{inputs.a}} ${{inputs.b}} ${{outputs.o}} ${{outputs.p}} ${{search_space.lr}} ${{oops}}",
      ["a"],
      ["o"],
    ).map((b) => b.text);
    expect(bad).to.deep.equal([
      "${{inputs.b}}",
      "${{outputs.p}}",
      "${{search_space.lr}}",
      "${{oops}}",
    ]);
  });

  it("lets an optional block name an undeclared input, and drops that block when substituting @unit", () => {
    const command = "python t.py $[[--lr ${{inputs.lr}}]] --data ${{inputs.data}}";
    expect(unboundReferences(command, ["data"], [])).to.deep.equal([]);
    expect(substituteBindings(command, { inputs: { data: "/d" }, outputs: {} })).to.equal(
      "python t.py  --data /d",
    );
    expect(
      substituteBindings(command, { inputs: { data: "/d", lr: "0.1" }, outputs: {} }),
    ).to.equal("python t.py --lr 0.1 --data /d");
  });

  it("substitutes input and output values, leaving unknown expressions as written @unit", () => {
    expect(
      substituteBindings("a ${{inputs.x}} b ${{ outputs.y }} c ${{inputs.z}}", {
        inputs: { x: "1" },
        outputs: { y: "/out/y" },
      }),
    ).to.equal("a 1 b /out/y c ${{inputs.z}}");
  });

  it("parses ISO 8601 durations and refuses what is not one @unit", () => {
    expect(parseIsoDuration("PT5M")).to.equal(300_000);
    expect(parseIsoDuration("PT1S")).to.equal(1000);
    expect(parseIsoDuration("PT0.5S")).to.equal(500);
    expect(parseIsoDuration("P1DT2H")).to.equal(26 * 3600 * 1000);
    expect(parseIsoDuration("P1W")).to.equal(7 * 24 * 3600 * 1000);
    for (const bad of ["5 minutes", "P", "PT", "P1M2", "PT5", "300", "P1Y"]) {
      expect(parseIsoDuration(bad), bad).to.equal(undefined);
    }
  });

  it("gives outputs Azure's default URI and mode and adds the default artifact output @unit", () => {
    const props = normalizeJobProperties("j1", {
      jobType: "Command",
      command: "x",
      outputs: { model: { jobOutputType: "mlflow_model" } },
      inputs: { d: { jobInputType: "uri_folder", uri: "azureml:d:1" } },
    });
    expect(props.outputs).to.deep.equal({
      model: {
        jobOutputType: "mlflow_model",
        mode: "ReadWriteMount",
        uri: "azureml://datastores/workspaceblobstore/paths/azureml/j1/model/",
      },
      default: {
        jobOutputType: "uri_folder",
        mode: "ReadWriteMount",
        uri: "azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.j1",
        description: null,
      },
    });
    expect(props.inputs).to.deep.equal({
      d: { jobInputType: "uri_folder", uri: "azureml:d:1", mode: "ReadOnlyMount" },
    });
    expect(props).to.include({ experimentName: "Default", displayName: "j1", isArchived: false });
  });

  it("compares a re-PUT by content: tags, description, display name and properties may change @unit", () => {
    const base = { jobType: "Command", command: "x", environmentId: "e", tags: { a: "1" } };
    const stored = {
      ...normalizeJobProperties("j", base),
      status: "Running",
      services: { Studio: {} },
    };
    expect(
      changedJobFields(
        stored,
        normalizeJobProperties("j", {
          ...base,
          tags: { b: "2" },
          description: "d",
          displayName: "n",
          properties: { p: "1" },
        }),
      ),
    ).to.deep.equal([]);
    expect(
      changedJobFields(
        stored,
        normalizeJobProperties("j", { ...base, command: "y", environmentId: "f" }),
      ),
    ).to.deep.equal(["command", "environmentId"]);
  });

  it("keeps the last non-empty lines of a log @unit", () => {
    expect(lastLines("a\n\nb\nc\n", 2)).to.deep.equal(["b", "c"]);
  });
});
