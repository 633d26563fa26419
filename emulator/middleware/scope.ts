/**
 * Scope check: the subscription, resource group and workspace in the path must be the emulated
 * ones, answered with ARM's own 404s (ARM checks these before the resource provider sees the call).
 */
import { ErrorFactory } from "../errors";
import type { WorkspaceScope } from "../state/ids";
import type { Middleware } from "./pipeline";

export function createScopeMiddleware(scope: WorkspaceScope): Middleware {
  const same = (a: string | undefined, b: string) =>
    a !== undefined && a.toLowerCase() === b.toLowerCase();
  return {
    name: "scope",
    async handle(ctx, next) {
      const match = ctx.route;
      if (match !== undefined && match.route.scope !== "none") {
        const { params } = match;
        if (!same(params.subscriptionId, scope.subscriptionId)) {
          throw ErrorFactory.subscriptionNotFound(params.subscriptionId ?? "");
        }
        if (
          match.route.scope !== "subscription" &&
          !same(params.resourceGroupName, scope.resourceGroupName)
        ) {
          throw ErrorFactory.resourceGroupNotFound(params.resourceGroupName ?? "");
        }
        if (match.route.scope === "workspace" && !same(params.workspaceName, scope.workspaceName)) {
          throw ErrorFactory.armResourceNotFound(
            "Microsoft.MachineLearningServices/workspaces",
            params.workspaceName ?? "",
            params.resourceGroupName ?? "",
          );
        }
      }
      await next();
    },
  };
}
