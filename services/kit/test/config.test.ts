import { fileURLToPath } from "node:url";
import { ConfigError, env, loadConfig, readConfig, redactUrl, shared } from "@tdt/kit";
import { configErrorOf } from "@tdt/test-support/thrown";
import { afterEach, describe, expect, it, vi } from "vitest";

describe("readConfig", () => {
  const spec = {
    port: env.port("SVC_PORT", 50051),
    name: env.string("SVC_NAME", "svc"),
    workers: env.int("SVC_WORKERS", 4, 1, 16),
    databaseUrl: env.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres", ["postgres", "postgresql"]),
    logLevel: env.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn"] as const),
    secure: env.bool("SVC_SECURE", false),
    origins: env.list("SVC_ORIGINS", ["http://localhost:3000"]),
    ownUrl: env.optional("SVC_DATABASE_URL"),
  };

  it("applies every default when nothing is set", () => {
    expect(readConfig(spec, {})).toEqual({
      port: 50051,
      name: "svc",
      workers: 4,
      databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres",
      logLevel: "info",
      secure: false,
      origins: ["http://localhost:3000"],
      ownUrl: undefined,
    });
  });

  it("reads every value that is set", () => {
    const config = readConfig(spec, {
      SVC_PORT: "6000",
      SVC_NAME: "auth",
      SVC_WORKERS: "16",
      DATABASE_URL: "postgresql://u:p@db:5432/x",
      LOG_LEVEL: "warn",
      SVC_SECURE: "yes",
      SVC_ORIGINS: "https://a.example, https://b.example",
      SVC_DATABASE_URL: "postgres://db/own",
    });
    expect(config).toEqual({
      port: 6000,
      name: "auth",
      workers: 16,
      databaseUrl: "postgresql://u:p@db:5432/x",
      logLevel: "warn",
      secure: true,
      origins: ["https://a.example", "https://b.example"],
      ownUrl: "postgres://db/own",
    });
  });

  it("reads from process.env when no source is given", () => {
    vi.stubEnv("KIT_TEST_ONLY_VARIABLE", "from-process-env");
    try {
      expect(readConfig({ value: env.string("KIT_TEST_ONLY_VARIABLE") })).toEqual({ value: "from-process-env" });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("throws the first bad variable's ConfigError", () => {
    const error = configErrorOf(() => readConfig(spec, { SVC_PORT: "http", SVC_WORKERS: "99" }));
    expect(error.variable).toBe("SVC_PORT");
  });
});

describe("blank and missing values", () => {
  it("treats an empty or whitespace-only value as unset and uses the default", () => {
    expect(env.port("P", 8080).read({ P: "" })).toBe(8080);
    expect(env.string("S", "fallback").read({ S: "   " })).toBe("fallback");
    expect(env.list("L", ["a"]).read({ L: " \t " })).toEqual(["a"]);
    expect(env.optional("O").read({ O: "  " })).toBeUndefined();
  });

  it("trims surrounding whitespace from a set value", () => {
    expect(env.string("S").read({ S: "  value \n" })).toBe("value");
    expect(env.port("P", 1).read({ P: " 8080 " })).toBe(8080);
    expect(env.optional("O").read({ O: " x " })).toBe("x");
  });

  it("fails a required variable that is missing, naming it", () => {
    const error = configErrorOf(() => env.string("JWT_SECRET").read({}));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe("ConfigError");
    expect(error.variable).toBe("JWT_SECRET");
    expect(error.message).toBe("JWT_SECRET is required but not set");
  });

  it("fails a required variable that is blank", () => {
    expect(configErrorOf(() => env.string("JWT_SECRET").read({ JWT_SECRET: "  " })).message).toBe(
      "JWT_SECRET is required but not set",
    );
    expect(configErrorOf(() => env.int("LIMIT", undefined).read({ LIMIT: "" })).message).toBe(
      "LIMIT is required but not set",
    );
    expect(configErrorOf(() => env.url("NATS_URL", undefined, ["nats"]).read({})).message).toBe(
      "NATS_URL is required but not set",
    );
  });
});

describe("env.port", () => {
  it("accepts 0 through 65535", () => {
    expect(env.port("P", 1).read({ P: "0" })).toBe(0);
    expect(env.port("P", 1).read({ P: "65535" })).toBe(65535);
  });

  it.each(["65536", "-1", "80.5", "http", "0x50", "1e3"])("rejects %j, naming the variable and the value", (bad) => {
    const error = configErrorOf(() => env.port("AUTH_PORT", 50051).read({ AUTH_PORT: bad }));
    expect(error.variable).toBe("AUTH_PORT");
    expect(error.message).toMatch(/^AUTH_PORT /);
    expect(error.message).toContain(bad);
  });
});

describe("env.int", () => {
  it("accepts the bounds themselves", () => {
    expect(env.int("N", 5, 1, 10).read({ N: "1" })).toBe(1);
    expect(env.int("N", 5, 1, 10).read({ N: "10" })).toBe(10);
    expect(env.int("N", 5, -10, 10).read({ N: "-10" })).toBe(-10);
  });

  it("defaults to a non-negative range", () => {
    expect(env.int("N", 5).read({ N: "0" })).toBe(0);
    expect(configErrorOf(() => env.int("N", 5).read({ N: "-1" })).message).toBe(
      `N must be between 0 and ${Number.MAX_SAFE_INTEGER}, got -1`,
    );
  });

  it("rejects a value below or above the bounds with the bounds and the value", () => {
    expect(configErrorOf(() => env.int("POOL_MAX", 5, 1, 10).read({ POOL_MAX: "0" })).message).toBe(
      "POOL_MAX must be between 1 and 10, got 0",
    );
    expect(configErrorOf(() => env.int("POOL_MAX", 5, 1, 10).read({ POOL_MAX: "11" })).message).toBe(
      "POOL_MAX must be between 1 and 10, got 11",
    );
  });

  it("rejects text that is not a whole number", () => {
    expect(configErrorOf(() => env.int("POOL_MAX", 5, 1, 10).read({ POOL_MAX: "5.5" })).message).toBe(
      'POOL_MAX must be a whole number, got "5.5"',
    );
    expect(configErrorOf(() => env.int("POOL_MAX", 5, 1, 10).read({ POOL_MAX: "five" })).message).toBe(
      'POOL_MAX must be a whole number, got "five"',
    );
  });
});

describe("env.url", () => {
  const databaseUrl = env.url("DATABASE_URL", undefined, ["postgres", "postgresql"]);

  it("accepts each allowed protocol and returns the text unchanged", () => {
    expect(databaseUrl.read({ DATABASE_URL: "postgres://u:p@h:5432/d?sslmode=require" })).toBe(
      "postgres://u:p@h:5432/d?sslmode=require",
    );
    expect(databaseUrl.read({ DATABASE_URL: "postgresql://h/d" })).toBe("postgresql://h/d");
  });

  it("rejects another protocol, naming the variable and the protocol but not the password", () => {
    const error = configErrorOf(() => databaseUrl.read({ DATABASE_URL: "mysql://admin:hunter2@db:3306/x" }));
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toBe('DATABASE_URL must use postgres or postgresql, got "mysql:"');
    expect(error.message).not.toContain("hunter2");
  });

  it("rejects text that is no URL, quoting it", () => {
    const error = configErrorOf(() => databaseUrl.read({ DATABASE_URL: "localhost:5432" }));
    // "localhost:" parses as a protocol, so this one fails on the protocol check.
    expect(error.message).toContain("DATABASE_URL");
    expect(error.message).toContain("localhost:");

    const notAUrl = configErrorOf(() => databaseUrl.read({ DATABASE_URL: "not a url" }));
    expect(notAUrl.message).toBe('DATABASE_URL must be a URL (postgres, postgresql), got "not a url"');
  });

  it("never puts the password of an unparseable URL into the message", () => {
    const error = configErrorOf(() => databaseUrl.read({ DATABASE_URL: "postgres://admin:hunter2@db:badport/x" }));
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toContain("admin:***@db:badport/x");
    expect(error.message).not.toContain("hunter2");
  });
});

describe("env.urls", () => {
  const natsUrl = env.urls("NATS_URL", undefined, ["nats"]);

  it("takes one URL or a cluster's servers separated by commas, spaces around them dropped", () => {
    expect(natsUrl.read({ NATS_URL: "nats://a:4222" })).toBe("nats://a:4222");
    expect(natsUrl.read({ NATS_URL: "nats://a:4222, nats://b:4222 ,nats://c:4222" })).toBe(
      "nats://a:4222,nats://b:4222,nats://c:4222",
    );
  });

  it("checks every server of the list, naming the variable and hiding passwords", () => {
    expect(configErrorOf(() => natsUrl.read({ NATS_URL: "nats://a:4222,http://b" })).message).toBe(
      'NATS_URL must use nats, got "http:"',
    );
    const empty = configErrorOf(() => natsUrl.read({ NATS_URL: "nats://a:4222," }));
    expect(empty.message).toBe('NATS_URL has an empty entry in its list, got "nats://a:4222,"');
    const secret = configErrorOf(() => natsUrl.read({ NATS_URL: "nats://a:4222,nats://u:hunter2@b:bad" }));
    expect(secret.message).not.toContain("hunter2");
  });
});

describe("env.oneOf", () => {
  const level = env.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn"] as const);

  it("accepts a listed choice", () => {
    expect(level.read({ LOG_LEVEL: "debug" })).toBe("debug");
  });

  it("rejects anything else, listing the choices and the value", () => {
    expect(configErrorOf(() => level.read({ LOG_LEVEL: "verbose" })).message).toBe(
      'LOG_LEVEL must be one of debug, info, warn, got "verbose"',
    );
    // Matching is exact: case matters.
    expect(configErrorOf(() => level.read({ LOG_LEVEL: "INFO" })).variable).toBe("LOG_LEVEL");
  });
});

describe("env.bool", () => {
  it.each(["1", "true", "TRUE", "yes", "on", "On"])("reads %j as true", (text) => {
    expect(env.bool("B", false).read({ B: text })).toBe(true);
  });

  it.each(["0", "false", "False", "no", "off", "OFF"])("reads %j as false", (text) => {
    expect(env.bool("B", true).read({ B: text })).toBe(false);
  });

  it("rejects anything else, naming the variable and the value", () => {
    expect(configErrorOf(() => env.bool("SECURE_COOKIES", false).read({ SECURE_COOKIES: "maybe" })).message).toBe(
      'SECURE_COOKIES must be true or false, got "maybe"',
    );
  });
});

describe("env.list", () => {
  it("splits on commas, trims items and drops empty ones", () => {
    expect(env.list("L", []).read({ L: " a ,b,, c ," })).toEqual(["a", "b", "c"]);
  });

  it("reads a single item as a one-item list", () => {
    expect(env.list("L", []).read({ L: "only" })).toEqual(["only"]);
  });
});

describe("env.optional", () => {
  it("is undefined when unset and the value when set", () => {
    expect(env.optional("O").read({})).toBeUndefined();
    expect(env.optional("O").read({ O: "postgres://h/d" })).toBe("postgres://h/d");
  });
});

describe("redactUrl", () => {
  it("replaces the password of a URL and keeps the rest", () => {
    const redacted = redactUrl("postgres://admin:hunter2@db:5432/tdt_auth?sslmode=require");
    expect(redacted).toBe("postgres://admin:***@db:5432/tdt_auth?sslmode=require");
  });

  it("leaves a URL without a password as it was", () => {
    expect(redactUrl("postgres://postgres@127.0.0.1:5432/postgres")).toBe(
      "postgres://postgres@127.0.0.1:5432/postgres",
    );
  });

  it("redacts the password of text that does not parse as a URL", () => {
    const redacted = redactUrl("postgres://admin:hunter2@db:notaport/x");
    expect(redacted).toBe("postgres://admin:***@db:notaport/x");
  });
});

describe("loadConfig", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("returns the config when every value is good", () => {
    expect(loadConfig({ port: env.port("P", 1) }, { P: "2" })).toEqual({ port: 2 });
  });

  it("prints one line naming the bad variable and exits 1", () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const exit = vi.spyOn(process, "exit").mockImplementation((code?: string | number | null) => {
      throw new Error(`exit ${code}`);
    });

    expect(() => loadConfig({ port: env.port("AUTH_PORT", 1) }, { AUTH_PORT: "abc" })).toThrow("exit 1");
    expect(exit).toHaveBeenCalledWith(1);
    expect(written).toEqual(['configuration error: AUTH_PORT must be a whole number, got "abc"\n']);
  });

  it("lets an error that is not a ConfigError through", () => {
    const broken = {
      read: (): never => {
        throw new TypeError("bug");
      },
    };
    const exit = vi.spyOn(process, "exit").mockImplementation(() => {
      throw new Error("should not exit");
    });
    expect(() => loadConfig({ broken }, {})).toThrow(TypeError);
    expect(exit).not.toHaveBeenCalled();
  });
});

describe("shared.natsCredentials", () => {
  const read = (source: Record<string, string>) => shared.natsCredentials.read(source);
  const secret = "s3cret-password-value";

  it("is none when nothing is set, so a NATS without authentication still works", () => {
    expect(read({})).toBeUndefined();
    expect(read({ NATS_USER: " ", NATS_PASSWORD: "", NATS_TOKEN: "" })).toBeUndefined();
  });

  it("reads a user and password, a token, or a creds file", () => {
    expect(read({ NATS_USER: "gateway", NATS_PASSWORD: secret })).toEqual({ user: "gateway", password: secret });
    expect(read({ NATS_TOKEN: secret })).toEqual({ token: secret });
    const file = fileURLToPath(import.meta.url);
    expect(read({ NATS_CREDS_FILE: file })).toEqual({ credsFile: file });
  });

  it("fails a half-set user and password, naming the missing variable", () => {
    expect(configErrorOf(() => read({ NATS_USER: "gateway" })).message).toBe(
      "NATS_PASSWORD must be set with NATS_USER",
    );
    const missingUser = configErrorOf(() => read({ NATS_PASSWORD: secret }));
    expect(missingUser.message).toBe("NATS_USER must be set with NATS_PASSWORD");
    expect(missingUser.message).not.toContain(secret);
  });

  it("fails two ways at once, naming the second, without any secret in the message", () => {
    const both = configErrorOf(() => read({ NATS_USER: "gateway", NATS_PASSWORD: secret, NATS_TOKEN: secret }));
    expect(both.variable).toBe("NATS_TOKEN");
    expect(both.message).not.toContain(secret);
    expect(configErrorOf(() => read({ NATS_TOKEN: secret, NATS_CREDS_FILE: "/etc/hostname" })).variable).toBe(
      "NATS_CREDS_FILE",
    );
  });

  it("fails a creds file that cannot be read", () => {
    expect(configErrorOf(() => read({ NATS_CREDS_FILE: "/nonexistent/tdt.creds" })).message).toBe(
      'NATS_CREDS_FILE cannot be read: "/nonexistent/tdt.creds"',
    );
  });
});

describe("where callers reach a service", () => {
  it("is host:port from <NAME>_HOST and <NAME>_PORT when no target is set", () => {
    expect(shared.treesAddress.read({})).toBe("127.0.0.1:50052");
    expect(shared.treesAddress.read({ TREES_HOST: "trees", TREES_PORT: "6000" })).toBe("trees:6000");
  });

  it("is <NAME>_TARGET as given when set: a name or a list of replicas", () => {
    expect(shared.treesAddress.read({ TREES_TARGET: "dns:///trees:50052", TREES_HOST: "x" })).toBe(
      "dns:///trees:50052",
    );
    expect(shared.sessionsAddress.read({ SESSIONS_TARGET: "ipv4:127.0.0.1:50053,127.0.0.2:50053" })).toBe(
      "ipv4:127.0.0.1:50053,127.0.0.2:50053",
    );
  });

  it("refuses a target without a resolver scheme, naming the variable", () => {
    for (const target of ["trees:50052", "http://trees:50052", "dns:///a:1, dns:///b:1"]) {
      const error = configErrorOf(() => shared.authAddress.read({ AUTH_TARGET: target }));
      expect(error.variable).toBe("AUTH_TARGET");
    }
  });
});
