import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * The owner key of a resource whose name is the caller's (a batch endpoint or deployment): a digest
 * of the Pulumi project, stack, resource type and resource name. `create` writes it into the Azure
 * resource's `properties`, so that the next `up` after one killed while the create was in flight
 * recognizes the resource as its own and takes it over instead of refusing it. A digest, so no
 * project or stack name is written to Azure.
 */
export function ownerKeyFor(type: string, name: string): string {
  return createHash("sha256")
    .update(`${pulumi.getProject()}\n${pulumi.getStack()}\nazureml:${type}\n${name}`)
    .digest("hex")
    .slice(0, 32);
}
