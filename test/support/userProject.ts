// The throwaway user project lives in tools/ (the demo and the example runner use it too); tests
// keep importing it from here.
export {
  createUserProject,
  findRepoRoot,
  packRepo,
  LINKED_DEPENDENCIES,
  type UserProject,
  type UserProjectOptions,
} from "../../tools/userProject";
