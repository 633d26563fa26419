// The MLflow room: the real tracking server behind the front door, runs named after their jobs.
export { trackingEnvironment, type TrackingEnvironmentOptions } from "./environment";
export { serveTracking, type TrackingFrontDoorOptions } from "./frontDoor";
export {
  createTrackingService,
  RUN_ID_TAG,
  workspaceTrackingPath,
  type LocalTrackingService,
  type TrackingScope,
  type TrackingServiceOptions,
} from "./service";
export type { TrackingRunRequest, TrackingRunStatus, TrackingService } from "./types";
