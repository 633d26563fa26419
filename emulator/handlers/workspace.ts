/** Workspace reads (`GET {ws}`, list by resource group): the single seeded workspace. */
import type { Router } from "../router";
import { workspaceResource } from "../state/seed";
import { paginate } from "./common";

export function registerWorkspaceHandlers(router: Router): void {
  router.register("Workspaces_Get", (hc) => ({
    status: 200,
    body: workspaceResource(hc.services.settings),
  }));
  router.register("Workspaces_ListByResourceGroup", (hc) => ({
    status: 200,
    body: paginate(hc, [workspaceResource(hc.services.settings)]),
  }));
}
