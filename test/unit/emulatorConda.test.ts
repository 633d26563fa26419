import { expect } from "chai";
import { environmentKey, planEnvironment } from "../../emulator/envs/builder";
import {
  CondaFileError,
  parseCondaFile,
  parseCondaMatchSpec,
  pythonPinSatisfied,
  toPep440,
} from "../../emulator/envs/conda";
import { notOnPyPI, installerMessage } from "../../emulator/envs/builder";

const PYTHON = { executable: "/usr/bin/python3", version: "3.11.7" };

const IRIS_CONDA = `
name: train-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip=24.0
  - conda-forge::numpy=1.26
  - scikit-learn>=1.4,<2
  - pytorch
  - libgcc-ng
  - pip:
      - mlflow-skinny==3.17.2   # the client only
      - lightgbm
      - --extra-index-url https://example.invalid/simple
`;

describe("emulator conda files", () => {
  it("turns conda and pip dependencies into PyPI requirements, skipping pip and conda-only packages @unit", () => {
    const spec = parseCondaFile(IRIS_CONDA);
    expect(spec.pythonPin).to.equal("=3.11");
    expect(spec.requirements.map((r) => [r.origin, r.requirement])).to.deep.equal([
      ["conda", "numpy==1.26.*"],
      ["conda", "scikit-learn>=1.4,<2"],
      ["conda", "torch"],
      ["pip", "mlflow-skinny==3.17.2"],
      ["pip", "lightgbm"],
    ]);
    expect(spec.installerOptions).to.deep.equal([
      "--extra-index-url",
      "https://example.invalid/simple",
    ]);
    expect(spec.notes.join("\n")).to.contain('"libgcc-ng"').and.contain('"torch"');
  });

  it("reads conda match specs in their three spellings and drops build strings @unit", () => {
    expect(parseCondaMatchSpec("numpy 1.26 py311_0")).to.include({
      name: "numpy",
      constraint: "=1.26",
    });
    expect(parseCondaMatchSpec("numpy=1.26.4=py311h64a7726_0")).to.include({
      constraint: "=1.26.4",
    });
    expect(parseCondaMatchSpec("defaults::Pandas==2.2.1")).to.include({
      name: "pandas",
      constraint: "==2.2.1",
    });
    expect(parseCondaMatchSpec("typing_extensions")).to.include({ name: "typing-extensions" });
  });

  it("translates conda version constraints to PEP 440 @unit", () => {
    expect(toPep440(undefined)).to.equal("");
    expect(toPep440("=1.2")).to.equal("==1.2.*");
    expect(toPep440("=1.*")).to.equal("==1.*");
    expect(toPep440("==1.2.3")).to.equal("==1.2.3");
    expect(toPep440(">=1,<2")).to.equal(">=1,<2");
    expect(() => toPep440("1.2|1.4")).to.throw(CondaFileError, /\|/);
  });

  it("checks a python pin against the machine's version @unit", () => {
    expect(pythonPinSatisfied("=3.11", "3.11.7")).to.equal(true);
    expect(pythonPinSatisfied("=3.10", "3.11.7")).to.equal(false);
    expect(pythonPinSatisfied("==3.11.7", "3.11.7")).to.equal(true);
    expect(pythonPinSatisfied(">=3.8,<3.11", "3.11.7")).to.equal(false);
    expect(pythonPinSatisfied(">=3.8,<3.12", "3.11.7")).to.equal(true);
    expect(pythonPinSatisfied("3.10.*|3.11.*", "3.11.7")).to.equal(true);
  });

  it("refuses a conda file that is no mapping, or a pip list naming other files @unit", () => {
    expect(() => parseCondaFile("- numpy")).to.throw(CondaFileError, /mapping/);
    expect(() => parseCondaFile("dependencies: numpy")).to.throw(CondaFileError, /list/);
    expect(() => parseCondaFile("dependencies:\n  - pip:\n    - -r requirements.txt\n")).to.throw(
      CondaFileError,
      /-r requirements.txt/,
    );
    expect(() => parseCondaFile("dependencies: [a: [b]")).to.throw(CondaFileError, /YAML/);
  });

  it("warns in the log when the python pin is not met, and for an image without a conda file @unit", () => {
    const pinned = planEnvironment(
      { id: "e1", condaFile: IRIS_CONDA.replace("3.11", "3.9") },
      PYTHON,
    );
    expect(pinned.messages[0]).to.match(/^Warning: .*python=3\.9.*3\.11\.7/);
    const met = planEnvironment({ id: "e1", condaFile: IRIS_CONDA }, PYTHON);
    expect(met.messages.join("\n")).not.to.contain("Warning");
    const image = planEnvironment({ id: "env-7", image: "mcr.microsoft.com/azureml/x:1" }, PYTHON);
    expect(image.kind).to.equal("machine");
    expect(image.messages[0]).to.match(
      /^Warning: .*env-7.*mcr\.microsoft\.com\/azureml\/x:1.*3\.11\.7/,
    );
  });

  it("keys an environment by what gets installed and the interpreter, not by the file's layout @unit", () => {
    const a = planEnvironment(
      { id: "a", condaFile: "dependencies:\n  - pip:\n    - six\n    - attrs\n" },
      PYTHON,
    );
    const b = planEnvironment(
      {
        id: "b",
        condaFile: "name: other\n# comment\ndependencies:\n- pip:\n  - attrs  # x\n  - six\n",
      },
      PYTHON,
    );
    const c = planEnvironment(
      { id: "c", condaFile: "dependencies:\n  - pip:\n    - six\n" },
      PYTHON,
    );
    expect(environmentKey(a, PYTHON)).to.equal(environmentKey(b, PYTHON));
    expect(environmentKey(a, PYTHON)).not.to.equal(environmentKey(c, PYTHON));
    expect(environmentKey(a, PYTHON)).not.to.equal(
      environmentKey(a, { ...PYTHON, version: "3.12.1" }),
    );
  });

  it("finds the projects uv reports missing and keeps its error lines as the message @unit", () => {
    const stderr =
      "Using Python 3.11.7 environment at: /tmp/x\n" +
      "error: No solution found when resolving dependencies\n" +
      "  cause: Because no-such_pkg was not found in the package registry and you require no-such_pkg, we can conclude that your requirements are unsatisfiable.\n";
    expect([...notOnPyPI(stderr)]).to.deep.equal(["no-such-pkg"]);
    expect(installerMessage(stderr)).to.match(/^error: No solution found/);
    expect(installerMessage(stderr)).not.to.contain("Using Python");
  });
});
