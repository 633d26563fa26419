/**
 * The environment the emulator builds for a batch deployment of an MLflow model without one: the
 * conda file derived from the model's own files, and its cache key.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { environmentKey, planEnvironment } from "../../emulator/envs/builder";
import { parseCondaFile } from "../../emulator/envs/conda";
import {
  MlflowEnvironmentError,
  mlflowCondaFile,
  mlflowEnvironment,
} from "../../emulator/envs/mlflow";
import { packageFile } from "../../emulator/envs/python";

const PYTHON = { executable: "/usr/bin/python3", version: "3.11.7" };

const MLMODEL = `
flavors:
  python_function:
    loader_module: mlflow.sklearn
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
`;

const CONDA = `
name: mlflow-env
channels: [conda-forge]
dependencies:
  - python=3.11.5
  - pip<=23.2
  - pip:
      - mlflow==2.9.2
      - scikit-learn==1.3.2
`;

function files(map: Record<string, string>) {
  return { mlmodel: map.MLmodel ?? MLMODEL, read: (name: string) => map[name] };
}

function keyOf(condaFile: string): string {
  return environmentKey(planEnvironment({ id: "x", condaFile }, PYTHON), PYTHON);
}

describe("emulator MLflow model environments", () => {
  it("takes the model's conda.yaml as written when it has one @unit", () => {
    const derived = mlflowCondaFile(
      files({ "conda.yaml": CONDA, "python_env.yaml": "python: 3.10.0\n" }),
    );
    expect(derived).to.deep.equal({ condaFile: CONDA, source: "conda.yaml" });
  });

  it("turns python_env.yaml and the requirements it includes into the same environment @unit", () => {
    const derived = mlflowCondaFile(
      files({
        "python_env.yaml":
          "python: 3.11.5\nbuild_dependencies:\n  - pip==23.2\n  - setuptools\ndependencies:\n  - -r requirements.txt\n",
        "requirements.txt": "# written by MLflow\nmlflow==2.9.2\n\nscikit-learn==1.3.2\n",
      }),
    );
    expect(derived.source).to.equal("python_env.yaml");
    const spec = parseCondaFile(derived.condaFile);
    expect(spec.pythonPin).to.equal("=3.11.5");
    expect(spec.requirements.map((r) => r.requirement)).to.deep.equal([
      "setuptools",
      "mlflow==2.9.2",
      "scikit-learn==1.3.2",
    ]);
    // Cached by content: the same packages as a conda.yaml listing them build once.
    const viaConda = mlflowCondaFile(
      files({
        "conda.yaml":
          "dependencies:\n  - python=3.11.5\n  - pip\n  - pip:\n      - setuptools\n      - mlflow==2.9.2\n      - scikit-learn==1.3.2\n",
      }),
    );
    expect(keyOf(derived.condaFile)).to.equal(keyOf(viaConda.condaFile));
    expect(keyOf(derived.condaFile)).not.to.equal(keyOf(CONDA));
  });

  it("falls back on requirements.txt, and follows an older MLmodel whose env names the conda file @unit", () => {
    const fromRequirements = mlflowCondaFile(files({ "requirements.txt": "mlflow\npandas\n" }));
    expect(fromRequirements.source).to.equal("requirements.txt");
    expect(
      parseCondaFile(fromRequirements.condaFile).requirements.map((r) => r.requirement),
    ).to.deep.equal(["mlflow", "pandas"]);
    const older = mlflowCondaFile(
      files({
        MLmodel: "flavors:\n  python_function:\n    env: env/my-conda.yaml\n",
        "env/my-conda.yaml": CONDA,
      }),
    );
    expect(older.source).to.equal("env/my-conda.yaml");
  });

  it("refuses a model with no dependency files, or one including a file it lacks, saying which @unit", () => {
    expect(() => mlflowCondaFile(files({}))).to.throw(
      MlflowEnvironmentError,
      "no conda.yaml, python_env.yaml or requirements.txt",
    );
    expect(() =>
      mlflowCondaFile(files({ "python_env.yaml": "dependencies:\n  - -r reqs.txt\n" })),
    ).to.throw(MlflowEnvironmentError, "python_env.yaml includes reqs.txt");
  });

  it("reads the committed MLflow models from disk, the MLmodel folder found below the root @unit", async () => {
    const iris = await mlflowEnvironment(
      "iris",
      packageFile("test", "fixtures", "batch", "mlflow-iris"),
    );
    expect(iris.source).to.equal("conda.yaml");
    // The iris model's dependencies are examples/train's: the same cached environment.
    expect(keyOf(iris.condaFile!)).to.equal(
      keyOf(readFileSync(packageFile("examples", "train", "conda.yaml"), "utf8")),
    );
    const linear = await mlflowEnvironment(
      "linear",
      packageFile("test", "fixtures", "batch", "mlflow-linear"),
    );
    expect(linear.source).to.equal("python_env.yaml");
    const spec = parseCondaFile(linear.condaFile!);
    expect(spec.pythonPin).to.equal("=3.11.0");
    expect(spec.requirements.map((r) => r.requirement)).to.deep.equal(["mlflow", "pandas"]);
    // Given a folder above the model, the first MLmodel below it (mlflow-iris, in name order).
    const below = await mlflowEnvironment("below", packageFile("test", "fixtures", "batch"));
    expect(below.condaFile).to.equal(iris.condaFile);
    const nothing = mlflowEnvironment("none", packageFile("test", "fixtures", "code-hash-vectors"));
    await nothing.then(
      () => expect.fail("a folder without MLmodel is no MLflow model"),
      (error: Error) => expect(error.message).to.include("no MLmodel file"),
    );
  });
});
