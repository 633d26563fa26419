// pulumi.runtime.setMocks recorder for component tests: setMocks first, then the modules are
// imported (as Pulumi's own mock tests do), and every registered resource is recorded.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** Extra state a mocked resource returns besides its inputs, by resource type suffix. */
export type MockState = (
  type: string,
  name: string,
  inputs: Record<string, any>,
) => Record<string, any>;

/** Installs mocks that record every resource; returns the record (filled as resources register). */
export async function recordResources(
  project: string,
  state: MockState = () => ({}),
): Promise<Registered[]> {
  const seen: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
        });
        // An `id` in the extra state becomes the resource's id.
        const { id, ...extra } = state(args.type, args.name, args.inputs);
        return {
          id: args.custom ? ((id as string | undefined) ?? `/ids/${args.name}`) : undefined,
          state: { ...args.inputs, ...extra },
        };
      },
      call: (args) => args.inputs,
    },
    project,
    "test",
    false,
  );
  return seen;
}

/** Waits until the resources (and their outputs) have registered with the mocks. */
export async function settled(...resources: (pulumi.Resource | undefined)[]): Promise<void> {
  await Promise.all(
    resources.map((r) =>
      (r?.urn as unknown as { promise(): Promise<string> } | undefined)?.promise(),
    ),
  );
}

/** A resource's URN: its type chain names the parent (`<parent type>$<type>::<name>`). */
export function urnOf(resource: pulumi.Resource): Promise<string> {
  return (resource.urn as unknown as { promise(): Promise<string> }).promise();
}

/** The value of an output under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
