// Real environments: uv from PyPI, small pure-Python packages, a temporary environment cache
// (the uv tool itself stays in the machine's cache, built once per content).
import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createEnvironmentBuilder, EnvironmentBuildError } from "../../emulator/envs";

const SIX_ENV = `
name: tiny
channels: [conda-forge]
dependencies:
  - python=2.7
  - pip
  - libgcc-ng
  - azureml-emulator-no-such-conda-package
  - pip:
      - six==1.17.0
`;

function collect(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe("emulator environment builder @python", function () {
  this.timeout(240_000);
  let cacheDir: string;

  beforeEach(async () => {
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-envs-"));
  });
  afterEach(async () => {
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it("builds a conda file's environment, and a second job with it installs nothing", async () => {
    const first = collect();
    const built = await createEnvironmentBuilder({ cacheDir }).prepare(
      { id: "/environments/tiny/versions/1", condaFile: SIX_ENV },
      first.log,
    );
    expect(built.reused).to.equal(false);
    expect(built.pythonPath).to.equal(path.join(built.binDir, "python"));
    const version = execFileSync(built.pythonPath, ["-c", "import six; print(six.__version__)"]);
    expect(version.toString().trim()).to.equal("1.17.0");
    const log = first.lines.join("\n");
    expect(log).to.match(/Warning: the conda file pins python=2\.7/);
    expect(log).to.contain('Skipping conda-only package "libgcc-ng"');
    expect(log).to.contain(
      'Warning: conda package "azureml-emulator-no-such-conda-package" has no PyPI project',
    );
    expect(log).to.contain("+ six==1.17.0");

    // A new builder, as in a restarted emulator: the environment is found by content.
    const second = collect();
    const reused = await createEnvironmentBuilder({ cacheDir }).prepare(
      { id: "/environments/tiny/versions/2", condaFile: SIX_ENV },
      second.log,
    );
    expect(reused).to.include({ reused: true, key: built.key, binDir: built.binDir });
    expect(second.lines.join("\n")).not.to.match(/Installing|\+ six/);
    expect(second.lines.join("\n")).to.contain("nothing to install");
  });

  it("fails with the installer's message when a pip package does not exist, leaving no environment", async () => {
    const { log } = collect();
    const error = await createEnvironmentBuilder({ cacheDir })
      .prepare(
        {
          id: "/environments/broken/versions/1",
          condaFile: "dependencies:\n  - pip:\n      - azureml-emulator-no-such-package-xyz\n",
        },
        log,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(EnvironmentBuildError);
    expect((error as Error).message).to.contain(
      "azureml-emulator-no-such-package-xyz was not found in the package registry",
    );
    expect(await fs.readdir(cacheDir)).to.deep.equal([]);
  });

  it("builds once when two jobs ask for the same environment at the same time", async () => {
    const builder = createEnvironmentBuilder({ cacheDir });
    const { lines, log } = collect();
    const request = { id: "e", condaFile: "dependencies:\n  - pip:\n      - six==1.17.0\n" };
    const [a, b] = await Promise.all([
      builder.prepare(request, log),
      builder.prepare(request, log),
    ]);
    expect(a.key).to.equal(b.key);
    expect(lines.filter((l) => l.startsWith("Installing six"))).to.have.length(1);
    expect(lines.join("\n")).not.to.contain("Waiting for");
  });

  it("builds once when two processes ask for the same environment at the same time", async () => {
    const script = `
      const { createEnvironmentBuilder } = require(${JSON.stringify(require.resolve("../../emulator/envs"))});
      const lines = [];
      createEnvironmentBuilder({ cacheDir: process.argv[1] })
        .prepare({ id: "e", condaFile: "dependencies:\\n  - pip:\\n      - six==1.17.0\\n" }, (l) => lines.push(l))
        .then((env) => console.log(JSON.stringify({ key: env.key, lines })));`;
    const run = () =>
      new Promise<{ key: string; lines: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", script, cacheDir], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        child.on("close", (code) =>
          code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`exit ${code}`)),
        );
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.key).to.equal(b.key);
    const installs = [...a.lines, ...b.lines].filter((l) => l.startsWith("Installing six"));
    expect(installs).to.have.length(1);
    const entries = await fs.readdir(cacheDir);
    expect(entries).to.deep.equal([`env-${a.key}`]);
  });

  it("stops building when the job is canceled, leaving nothing half-built", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      if (line.startsWith("Installing")) {
        controller.abort(new Error("job canceled"));
      }
    };
    const error = await createEnvironmentBuilder({ cacheDir })
      .prepare(
        { id: "e", condaFile: "dependencies:\n  - pip:\n      - attrs==25.3.0\n" },
        log,
        controller.signal,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as Error).message).to.equal("job canceled");
    expect(await fs.readdir(cacheDir)).to.deep.equal([]);
  });

  it("runs an image-only environment on the machine's Python, with a warning", async () => {
    const { lines, log } = collect();
    const env = await createEnvironmentBuilder({ cacheDir }).prepare(
      { id: "/environments/img/versions/1", image: "mcr.microsoft.com/azureml/minimal:1" },
      log,
    );
    expect(lines[0]).to.match(
      /^Warning: .*mcr\.microsoft\.com\/azureml\/minimal:1.*machine's Python/,
    );
    const machine = execFileSync("python3", ["-c", "import sys; print(sys.version_info[:3])"]);
    const inEnv = execFileSync(env.pythonPath, ["-c", "import sys; print(sys.version_info[:3])"]);
    expect(inEnv.toString()).to.equal(machine.toString());
  });
});
