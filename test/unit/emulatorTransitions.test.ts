import { expect } from "chai";
import {
  TRANSITIONS,
  advance,
  initialState,
  isTerminal,
  parseProgression,
  terminalState,
  validateProgression,
  type ManagedState,
  type Progression,
} from "../../emulator/state/transitions";

/** Observes `times` times at the given clock values and returns the states seen. */
function observe(progression: Progression, clock: number[], table = TRANSITIONS.job): string[] {
  let state: ManagedState = initialState(table, 0);
  return clock.map((now) => {
    state = advance(state, table, progression, now);
    return state.state;
  });
}

describe("emulator state transitions", () => {
  it("starts in the table's first state and knows the terminal one @unit", () => {
    expect(initialState(TRANSITIONS.job, 5)).to.deep.equal({
      state: "NotStarted",
      observations: 0,
      enteredAtMs: 5,
    });
    expect(terminalState(TRANSITIONS.job)).to.equal("Completed");
    expect(isTerminal(TRANSITIONS.create, "Succeeded")).to.equal(true);
    expect(isTerminal(TRANSITIONS.create, "Creating")).to.equal(false);
  });

  it("immediate: the first observation sees the terminal state @unit", () => {
    expect(observe({ mode: "immediate" }, [0, 0])).to.deep.equal(["Completed", "Completed"]);
  });

  it("polls:1 advances one step per observation @unit", () => {
    expect(observe({ mode: "polls", polls: 1 }, [0, 0, 0, 0])).to.deep.equal([
      "Queued",
      "Running",
      "Completed",
      "Completed",
    ]);
  });

  it("polls:2 needs two observations per step @unit", () => {
    expect(observe({ mode: "polls", polls: 2 }, [0, 0, 0, 0, 0, 0])).to.deep.equal([
      "NotStarted",
      "Queued",
      "Queued",
      "Running",
      "Running",
      "Completed",
    ]);
  });

  it("timed advances by elapsed wall time, several steps at once when overdue @unit", () => {
    expect(observe({ mode: "timed", ms: 100 }, [50, 100, 150, 450])).to.deep.equal([
      "NotStarted",
      "Queued",
      "Queued",
      "Completed",
    ]);
  });

  it("does not change the state it was given (pure) @unit", () => {
    const start = initialState(TRANSITIONS.create, 0);
    advance(start, TRANSITIONS.create, { mode: "polls", polls: 1 }, 1);
    expect(start.state).to.equal("Creating");
  });

  it("validates progressions and parses the CLI form @unit", () => {
    expect(parseProgression("immediate")).to.deep.equal({ mode: "immediate" });
    expect(parseProgression("polls:3")).to.deep.equal({ mode: "polls", polls: 3 });
    expect(parseProgression("timed:250")).to.deep.equal({ mode: "timed", ms: 250 });
    expect(() => parseProgression("polls:0")).to.throw(TypeError, /positive integer/);
    expect(() => parseProgression("sometimes")).to.throw(
      TypeError,
      /immediate, polls:N or timed:MS/,
    );
    expect(() => validateProgression({ mode: "timed", ms: -1 })).to.throw(TypeError);
  });
});
