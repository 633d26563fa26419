/**
 * A JSON reader as lenient as Json.NET's default `JsonTextReader`, which Azure ML's front end
 * parses request bodies with: raw control characters (a newline, a tab) inside strings, trailing
 * commas before `}` or `]`, `//` and `/* *\/` comments, single-quoted strings and unquoted property
 * names. What it returns is plain JSON data; everything after parsing stays as strict as before.
 * Standard JSON takes the fast path (`JSON.parse`); only what that refuses is read here.
 */

/** Thrown for text that is not JSON even leniently; `message` says where and why. */
export class LenientJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LenientJsonError";
  }
}

/** Parses `text` as Json.NET would read it (see the module comment). */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new Reader(text).document();
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value();
    this.skip();
    if (this.at < this.text.length) {
      this.fail("unexpected text after the JSON value");
    }
    return value;
  }

  private fail(reason: string): never {
    const before = this.text.slice(0, this.at);
    const line = before.split("\n").length;
    const column = this.at - before.lastIndexOf("\n");
    throw new LenientJsonError(`${reason} at line ${line}, column ${column}`);
  }

  /** Skips whitespace and comments. */
  private skip(): void {
    for (;;) {
      const c = this.text[this.at];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\uFEFF") {
        this.at++;
      } else if (c === "/" && this.text[this.at + 1] === "/") {
        const end = this.text.indexOf("\n", this.at);
        this.at = end < 0 ? this.text.length : end + 1;
      } else if (c === "/" && this.text[this.at + 1] === "*") {
        const end = this.text.indexOf("*/", this.at + 2);
        if (end < 0) {
          this.fail("unterminated comment");
        }
        this.at = end + 2;
      } else {
        return;
      }
    }
  }

  private value(): unknown {
    this.skip();
    const c = this.text[this.at];
    if (c === "{") {
      return this.object();
    }
    if (c === "[") {
      return this.array();
    }
    if (c === '"' || c === "'") {
      return this.string();
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      return this.number();
    }
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.fail(c === undefined ? "unexpected end of the body" : `unexpected '${c}'`);
  }

  private object(): Record<string, unknown> {
    this.at++; // {
    const result: Record<string, unknown> = {};
    for (;;) {
      this.skip();
      if (this.text[this.at] === "}") {
        this.at++;
        return result;
      }
      const key = this.propertyName();
      this.skip();
      if (this.text[this.at] !== ":") {
        this.fail(`expected ':' after the property name '${key}'`);
      }
      this.at++;
      // defineProperty keeps `__proto__` an own data key, as JSON.parse does (refused later).
      Object.defineProperty(result, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skip();
      const c = this.text[this.at];
      if (c === ",") {
        this.at++;
      } else if (c !== "}") {
        this.fail("expected ',' or '}'");
      }
    }
  }

  private propertyName(): string {
    const c = this.text[this.at];
    if (c === '"' || c === "'") {
      return this.string();
    }
    const match = /^[A-Za-z_$][\w$-]*/.exec(this.text.slice(this.at, this.at + 1024));
    if (match === null) {
      return this.fail(c === undefined ? "unexpected end of the body" : `unexpected '${c}'`);
    }
    this.at += match[0].length;
    return match[0];
  }

  private array(): unknown[] {
    this.at++; // [
    const result: unknown[] = [];
    for (;;) {
      this.skip();
      if (this.text[this.at] === "]") {
        this.at++;
        return result;
      }
      result.push(this.value());
      this.skip();
      const c = this.text[this.at];
      if (c === ",") {
        this.at++;
      } else if (c !== "]") {
        this.fail("expected ',' or ']'");
      }
    }
  }

  private string(): string {
    const quote = this.text[this.at++];
    let result = "";
    for (;;) {
      const c = this.text[this.at++];
      if (c === undefined) {
        this.fail("unterminated string");
      }
      if (c === quote) {
        return result;
      }
      if (c !== "\\") {
        result += c; // raw newlines, tabs and other control characters are kept as they are
        continue;
      }
      const e = this.text[this.at++];
      if (e === "u") {
        const hex = this.text.slice(this.at, this.at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.fail("bad \\u escape");
        }
        result += String.fromCharCode(parseInt(hex, 16));
        this.at += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        result += ESCAPES[e];
      } else {
        this.fail(`bad escape '\\${e ?? ""}'`);
      }
    }
  }

  private number(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(
      this.text.slice(this.at, this.at + 400),
    );
    if (match === null) {
      return this.fail("bad number");
    }
    this.at += match[0].length;
    return Number(match[0]);
  }
}
