/** Where a workspace's MLflow tracking lives (pure; the workspace resource uses it too). */

/** The workspace whose tracking this is. */
export interface TrackingScope {
  readonly subscriptionId: string;
  readonly resourceGroupName: string;
  readonly workspaceName: string;
}

/** `/mlflow/v1.0/subscriptions/…/workspaces/<ws>`: Azure ML's tracking path for a workspace. */
export function workspaceTrackingPath(scope: TrackingScope): string {
  return (
    `/mlflow/v1.0/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroupName}` +
    `/providers/Microsoft.MachineLearningServices/workspaces/${scope.workspaceName}`
  );
}
