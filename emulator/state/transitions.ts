/**
 * Deterministic simulated state (moto's `ManagedState`): a resource or operation moves through a
 * named transition table, one step per `advance()`, paced by the configured progression.
 * `advance()` is called on every observation (a status poll, a Location poll, a GET).
 */

/** How states advance: at the first observation, every N observations, or every `ms` of wall time. */
export type Progression =
  { mode: "immediate" } | { mode: "polls"; polls: number } | { mode: "timed"; ms: number };

export const DEFAULT_PROGRESSION: Progression = { mode: "polls", polls: 1 };

/** Ordered `[from, to]` steps; a state with no outgoing step is terminal. */
export type TransitionTable = readonly (readonly [from: string, to: string])[];

/** The named tables the emulator uses. */
export const TRANSITIONS = {
  /** Azure-AsyncOperation status of an operation that will succeed. */
  operationSucceeded: [["InProgress", "Succeeded"]],
  operationFailed: [["InProgress", "Failed"]],
  operationCanceled: [["InProgress", "Canceled"]],
  /** provisioningState of a tracked resource being created, updated or deleted. */
  create: [["Creating", "Succeeded"]],
  update: [["Updating", "Succeeded"]],
  delete: [["Deleting", "Deleted"]],
  /** Azure ML job status (for the job handlers). */
  job: [
    ["NotStarted", "Queued"],
    ["Queued", "Running"],
    ["Running", "Completed"],
  ],
  jobCancel: [["CancelRequested", "Canceled"]],
} as const satisfies Record<string, TransitionTable>;

export type TransitionTableName = keyof typeof TRANSITIONS;

/** Where a managed object stands in its table. Plain JSON so it can be persisted. */
export interface ManagedState {
  state: string;
  /** Observations seen since entering `state`. */
  observations: number;
  /** Epoch ms when `state` was entered. */
  enteredAtMs: number;
}

export function initialState(table: TransitionTable, nowInMs: number): ManagedState {
  if (table.length === 0) {
    throw new TypeError("A transition table needs at least one step.");
  }
  return { state: table[0][0], observations: 0, enteredAtMs: nowInMs };
}

export function nextState(table: TransitionTable, state: string): string | undefined {
  return table.find(([from]) => from === state)?.[1];
}

export function isTerminal(table: TransitionTable, state: string): boolean {
  return nextState(table, state) === undefined;
}

export function terminalState(table: TransitionTable): string {
  let state = table[0][0];
  for (let next = nextState(table, state); next !== undefined; next = nextState(table, state)) {
    state = next;
  }
  return state;
}

/** Records one observation and returns the new position (pure: the input is not changed). */
export function advance(
  current: ManagedState,
  table: TransitionTable,
  progression: Progression,
  nowInMs: number,
): ManagedState {
  if (isTerminal(table, current.state)) {
    return current;
  }
  switch (progression.mode) {
    case "immediate":
      return { state: terminalState(table), observations: 0, enteredAtMs: nowInMs };
    case "polls": {
      const observations = current.observations + 1;
      if (observations >= Math.max(1, progression.polls)) {
        return {
          state: nextState(table, current.state) as string,
          observations: 0,
          enteredAtMs: nowInMs,
        };
      }
      return { ...current, observations };
    }
    case "timed": {
      let { state, enteredAtMs } = current;
      const stepInMs = Math.max(0, progression.ms);
      for (
        let next = nextState(table, state);
        next !== undefined && nowInMs - enteredAtMs >= stepInMs;
        next = nextState(table, state)
      ) {
        state = next;
        enteredAtMs += stepInMs;
      }
      return state === current.state
        ? { ...current, observations: current.observations + 1 }
        : { state, observations: 0, enteredAtMs };
    }
    default:
      return current;
  }
}

/** Throws TypeError for a malformed progression (user input from options or the CLI). */
export function validateProgression(progression: Progression): Progression {
  if (typeof progression !== "object" || progression === null) {
    throw new TypeError("Expected `progression` to be an object.");
  }
  switch (progression.mode) {
    case "immediate":
      return { mode: "immediate" };
    case "polls":
      if (!Number.isInteger(progression.polls) || progression.polls < 1) {
        throw new TypeError("Expected `progression.polls` to be a positive integer.");
      }
      return { mode: "polls", polls: progression.polls };
    case "timed":
      if (typeof progression.ms !== "number" || !(progression.ms >= 0)) {
        throw new TypeError("Expected `progression.ms` to be a non-negative number.");
      }
      return { mode: "timed", ms: progression.ms };
    default:
      throw new TypeError('Expected `progression.mode` to be "immediate", "polls" or "timed".');
  }
}

/** Parses the CLI form: `immediate`, `polls:N`, `timed:MS`. */
export function parseProgression(text: string): Progression {
  const [mode, arg] = text.split(":");
  if (mode === "immediate" && arg === undefined) {
    return { mode: "immediate" };
  }
  if (mode === "polls") {
    return validateProgression({ mode, polls: Number(arg) });
  }
  if (mode === "timed") {
    return validateProgression({ mode, ms: Number(arg) });
  }
  throw new TypeError(`Invalid progression '${text}': expected immediate, polls:N or timed:MS.`);
}
