/**
 * CommandJob through the real Pulumi engine, against the shared emulator: a failing job fails
 * `pulumi up` with the job's error, a fixed script runs as a new job, an unchanged program submits
 * nothing, and destroy archives the job.
 */
import { expect } from "chai";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandJob, EnvironmentVersion } from "../../index";
import { changes, EngineRunError, type EngineStack } from "../../tools/stack";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";

describe("CommandJob through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  let folder: string | undefined;

  after(async () => {
    await stack?.close();
    if (folder) {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it("fails up with the job's error, runs the fixed script as a new job, then changes nothing and archives it on destroy @engine", async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), "engine-job-"));
    await fs.mkdir(path.join(folder, "src"));
    await fs.writeFile(
      path.join(folder, "src", "train.py"),
      `print("run ${uniqueName("r")}")\nraise SystemExit("the data is missing")\n`,
    );
    const names = { env: uniqueName("eng-env") };
    stack = await emulatorStack(
      engine(),
      "engine-job",
      async () => {
        const workspace = workspaceArgs();
        const env = new EnvironmentVersion("env", {
          ...workspace,
          name: names.env,
          image: "python:3.11-slim",
        });
        const job = new CommandJob("train", {
          ...workspace,
          code: "src",
          environment: env,
          compute: "cpu-cluster",
          command: "python train.py",
          minPollIntervalInSeconds: 0.5,
          maxPollIntervalInSeconds: 2,
        });
        return { name: job.name, status: job.status };
      },
      { files: [folder] },
    );

    const failed = await stack.up().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).to.be.instanceOf(EngineRunError);
    expect((failed as Error).message).to.contain("ended Failed");
    expect((failed as Error).message).to.contain("the data is missing");

    await fs.writeFile(path.join(stack.dir, "src", "train.py"), "print('fixed')\n");
    const fixed = await stack.up();
    expect(fixed.outputs.status).to.equal("Completed");
    const name = String(fixed.outputs.name);

    const mark = getEmulator().requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.method === "PUT" && r.path.includes("/jobs/")),
    ).to.deep.equal([]);

    await stack.destroy();
    const job = await armGet(`${getEmulator().info.workspaceId}/jobs/${name}`);
    expect(job.properties.isArchived).to.equal(true);
  });
});
