/**
 * Issue 30, variables, form and logic nodes, through the gateway: a tree that declares variables
 * takes values at the start (as a CRM would pass them), asks a form, routes on CEL rules without a
 * technician step, shows values in its text as text, and reports them; validation refuses what
 * cannot run (unknown variables, ill-typed or hostile rules, a loop of logic nodes).
 */
import { type SystemWithTeam, startSystemWithTeam } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let running: SystemWithTeam;
let engineer: string;
let technician: string;

beforeAll(async () => {
  running = await startSystemWithTeam("former");
  ({ engineer, technician } = running);
});

afterAll(async () => {
  await running?.stop();
});

interface Step {
  seq: number;
  node_id: string;
  node_title: string;
  values?: Record<string, unknown>;
  rule?: string;
}
interface Session {
  id: string;
  status: string;
  current_node: {
    id: string;
    type: string;
    title: string;
    body: string;
    fields?: Array<{ id: string; label: string }>;
    options?: Array<{ label: string }>;
  };
  steps: Step[];
  variables: Record<string, unknown>;
}
interface Problem {
  loc: Array<string | number>;
  type: string;
}

const VARIABLES = [
  { name: "customer", type: "text" },
  { name: "tier", type: "choice", choices: ["basic", "gold"], default: "basic" },
  { name: "serial", type: "text" },
  { name: "pages", type: "number" },
  { name: "under_warranty", type: "boolean" },
  { name: "bought", type: "date" },
];

/** A printer tree that routes on the customer's tier (given at start) and on a form's answers. */
function formTree(overrides: Record<string, unknown> = {}) {
  return {
    title: "Printer jams, by warranty",
    description: "",
    category: "Printers",
    tags: [],
    status: "published",
    root_node_id: "by_tier",
    change_note: "",
    variables: VARIABLES,
    nodes: [
      {
        id: "by_tier",
        type: "logic",
        title: "Route by tier",
        body: "",
        rules: [{ when: "tier == 'gold'", next: "gold_line" }],
        default_next: "details",
      },
      {
        id: "gold_line",
        type: "solution",
        title: "Call the gold line for {{customer}}",
        body: "",
        outcome: "escalated",
      },
      {
        id: "details",
        type: "form",
        title: "About the printer of {{customer}}",
        body: "Customer: **{{customer}}**",
        fields: [
          { id: "serial", label: "Serial number", variable: "serial", type: "text", required: true, min: 4, max: 20 },
          { id: "pages", label: "Pages printed", variable: "pages", type: "number", required: true, min: 0 },
          { id: "warranty", label: "Under warranty?", variable: "under_warranty", type: "boolean", required: true },
          { id: "bought", label: "Bought on", variable: "bought", type: "date", required: false },
        ],
        next: "route",
      },
      {
        id: "route",
        type: "logic",
        title: "Warranty or wear",
        body: "",
        rules: [
          { when: "under_warranty && pages < 100000", next: "replace" },
          { when: "pages >= 100000", next: "worn" },
        ],
        default_next: "clean",
      },
      { id: "replace", type: "solution", title: "Replace {{serial}} under warranty", body: "", outcome: "resolved" },
      { id: "worn", type: "solution", title: "Worn out after {{pages}} pages", body: "", outcome: "resolved" },
      {
        id: "clean",
        type: "action",
        title: "Clean the rollers",
        body: "",
        next: "cleaned",
      },
      { id: "cleaned", type: "solution", title: "Rollers cleaned", body: "", outcome: "resolved" },
    ],
    ...overrides,
  };
}

async function createTree(body: Record<string, unknown>) {
  return running.client.call<{ id: string; version: number; variables: unknown[]; nodes: unknown[] }>(
    "POST",
    "/api/v1/trees",
    { token: engineer, json: body },
  );
}

async function publishedTree(body: Record<string, unknown> = formTree()): Promise<string> {
  const created = await createTree(body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

function start(treeId: string, variables?: Record<string, unknown>) {
  return running.client.call<Session>("POST", "/api/v1/sessions", {
    token: technician,
    json: { tree_id: treeId, ...(variables ? { variables } : {}) },
  });
}

function step(id: string, json: Record<string, unknown>) {
  return running.client.call<Session>("PUT", `/api/v1/sessions/${id}`, { token: technician, json });
}

const problemsOf = (body: unknown) => (body as { detail: Problem[] }).detail;

describe("variables, forms and logic nodes", () => {
  it("stores a tree's variables, fields and rules and reads them back as sent", async () => {
    const created = await createTree(formTree());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Read back as answers carry them: every field there, those left out with their empty values.
    const asAnswered = VARIABLES.map((variable) => ({ choices: [], ...variable }));
    expect(created.body.variables).toEqual(asAnswered);
    const read = await running.client.call<typeof created.body>("GET", `/api/v1/trees/${created.body.id}`, {
      token: technician,
    });
    expect(read.status).toBe(200);
    const nodes = formTree().nodes.map((each) =>
      each.fields ? { ...each, fields: each.fields.map((field) => ({ choices: [], ...field })) } : each,
    );
    expect(read.body.nodes).toEqual(nodes);
    expect(read.body.variables).toEqual(asAnswered);
  });

  it("routes on a value given at the start without a technician step, and records the rule", async () => {
    const treeId = await publishedTree();
    const gold = await start(treeId, { customer: "ACME", tier: "gold" });
    expect(gold.status, JSON.stringify(gold.body)).toBe(201);
    expect(gold.body.current_node.id).toBe("gold_line");
    expect(gold.body.current_node.title).toBe("Call the gold line for ACME");
    expect(gold.body.steps.map((each) => [each.node_id, each.rule])).toEqual([
      ["by_tier", "0"],
      ["gold_line", undefined],
    ]);
    // The default, when no value was given: `tier` defaults to basic, and no rule holds.
    const basic = await start(treeId, { customer: "Initech" });
    expect(basic.status).toBe(201);
    expect(basic.body.current_node.id).toBe("details");
    expect(basic.body.steps[0]?.rule).toBe("default");
    expect(basic.body.variables).toEqual({ customer: "Initech", tier: "basic" });
  });

  it("takes a form's values, checked with field locations, into the session and the report", async () => {
    const treeId = await publishedTree();
    const started = await start(treeId, { customer: "Umbrella *Corp* <b>x</b>" });
    expect(started.status).toBe(201);
    const session = started.body;
    expect(session.current_node.type).toBe("form");
    expect(session.current_node.fields?.map((field) => field.id)).toEqual(["serial", "pages", "warranty", "bought"]);
    // A value in the Markdown body is text: its markup is escaped, never rendered.
    expect(session.current_node.body).toBe("Customer: **Umbrella \\*Corp\\* &lt;b&gt;x&lt;/b&gt;**");
    expect(session.current_node.title).toBe("About the printer of Umbrella *Corp* <b>x</b>");

    const wrong = await step(session.id, {
      op: "submit",
      node_id: "details",
      values: { serial: "ab", pages: "many", warranty: "yes", bought: "2026-02-30", colour: "red" },
    });
    expect(wrong.status).toBe(422);
    expect(
      problemsOf(wrong.body)
        .map((problem) => `${problem.loc.join(".")}:${problem.type}`)
        .sort(),
    ).toEqual([
      "body.values.bought:date_format",
      "body.values.colour:unknown_field",
      "body.values.pages:number_type",
      "body.values.serial:string_too_short",
      "body.values.warranty:bool_type",
    ]);
    const missing = await step(session.id, { op: "submit", node_id: "details", values: { serial: "CN-4711" } });
    expect(missing.status).toBe(422);
    expect(problemsOf(missing.body).map((problem) => problem.loc.join("."))).toEqual([
      "body.values.pages",
      "body.values.warranty",
    ]);
    // Nothing was half written: the session is still at its form.
    const unchanged = await running.client.call<Session>("GET", `/api/v1/sessions/${session.id}`, {
      token: technician,
    });
    expect(unchanged.body.current_node.id).toBe("details");
    expect(unchanged.body.steps).toHaveLength(2);

    const submitted = await step(session.id, {
      op: "submit",
      node_id: "details",
      values: { serial: "CN-4711", pages: 2500, warranty: true, bought: "2025-06-01" },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body.current_node.id).toBe("replace");
    expect(submitted.body.current_node.title).toBe("Replace CN-4711 under warranty");
    const formStep = submitted.body.steps.find((each) => each.node_id === "details");
    expect(formStep?.values).toEqual({ serial: "CN-4711", pages: 2500, warranty: true, bought: "2025-06-01" });
    expect(submitted.body.steps.find((each) => each.node_id === "route")?.rule).toBe("0");
    expect(submitted.body.variables).toMatchObject({ serial: "CN-4711", pages: 2500, under_warranty: true });

    // A retried submit is refused, never applied twice.
    const retried = await step(session.id, {
      op: "submit",
      node_id: "details",
      values: { serial: "CN-4711", pages: 2500, warranty: true },
    });
    expect(retried.status).toBe(409);

    const completed = await running.client.call<Session>("POST", `/api/v1/sessions/${session.id}/complete`, {
      token: technician,
      json: {},
    });
    expect(completed.status).toBe(200);
    const markdown = await running.client.call<string>(
      "POST",
      `/api/v1/sessions/${session.id}/export?format=markdown`,
      {
        token: technician,
      },
    );
    expect(markdown.status).toBe(200);
    const report = String(markdown.body);
    expect(report).toContain("## Variables");
    expect(report).toContain("- serial: CN-4711");
    expect(report).toContain("- bought: 2025-06-01");
    expect(report).toContain("- customer: Umbrella \\*Corp\\* &lt;b>x&lt;/b>");
    expect(report).toContain("Serial number: CN-4711; Pages printed: 2500; Under warranty?: true");
    expect(report).toContain("rule 0 held");
  });

  it("goes back over a logic node to the form, which can be submitted again to route elsewhere", async () => {
    const treeId = await publishedTree();
    const session = (await start(treeId, { customer: "Globex" })).body;
    const first = await step(session.id, {
      op: "submit",
      node_id: "details",
      values: { serial: "SN-0001", pages: 250000, warranty: false },
    });
    expect(first.body.current_node.id).toBe("worn");
    expect(first.body.current_node.title).toBe("Worn out after 250000 pages");
    const back = await step(session.id, { op: "back" });
    expect(back.status).toBe(200);
    expect(back.body.current_node.id).toBe("details");
    const again = await step(session.id, {
      op: "submit",
      node_id: "details",
      values: { serial: "SN-0001", pages: 10, warranty: false },
    });
    expect(again.body.current_node.id).toBe("clean");
    expect(again.body.steps.at(-2)?.rule).toBe("default");
  });

  it("refuses a start whose values are unknown or of the wrong type, or that lacks one the logic needs", async () => {
    const needy = formTree({
      variables: [...VARIABLES, { name: "region", type: "choice", choices: ["eu", "us"] }],
      nodes: formTree().nodes.map((each) =>
        each.id === "by_tier"
          ? { ...each, rules: [{ when: "tier == 'gold' || region == 'us'", next: "gold_line" }] }
          : each,
      ),
    });
    const treeId = await publishedTree(needy);
    const refused = await start(treeId, { tier: "platinum", nope: 1, customer: 7 });
    expect(refused.status).toBe(422);
    expect(
      problemsOf(refused.body)
        .map((problem) => `${problem.loc.join(".")}:${problem.type}`)
        .sort(),
    ).toEqual([
      "body.variables.customer:string_type",
      "body.variables.nope:unknown_variable",
      "body.variables.region:missing_variable",
      "body.variables.tier:enum",
    ]);
    const started = await start(treeId, { region: "us" });
    expect(started.status).toBe(201);
    expect(started.body.current_node.id).toBe("gold_line");
  });

  it("refuses at save a rule that does not parse, names an unknown variable, is not a bool, or is hostile", async () => {
    const withRules = (rules: Array<{ when: string; next: string }>) =>
      formTree({
        nodes: formTree().nodes.map((each) => (each.id === "route" ? { ...each, rules } : each)),
      });
    const cases: Array<[string, string]> = [
      ["pages >", "rule_syntax"],
      ["colour == 'red'", "unknown_variable"],
      ["pages + 1", "rule_type"],
      ["pages == 'many'", "rule_type"],
      ["serial.matches('(a+)+$')", "rule_unsupported"],
      ["[1,2,3].all(x, [1,2,3].all(y, [1,2,3].all(z, x < y)))", "rule_unsupported"],
      ["{'a': 1}.size() > 0", "rule_unsupported"],
      [`${"pages + ".repeat(110)}1 > 0`, "rule_too_complex"],
      [`${"pages>1.0&&".repeat(70)}true`, "rule_too_complex"],
    ];
    const created = await createTree(withRules(cases.map(([when]) => ({ when, next: "clean" }))));
    expect(created.status).toBe(422);
    const found = problemsOf(created.body).filter((problem) => problem.loc.includes("rules"));
    expect(found.map((problem) => [problem.loc.slice(1).join("."), problem.type])).toEqual(
      cases.map(([, type], index) => [`nodes.3.rules.${index}.when`, type]),
    );
  });

  it("refuses a loop of logic nodes, a form into an unknown variable or of the wrong type, and unknown targets", async () => {
    const body = formTree({
      nodes: [
        ...formTree()
          .nodes.filter((each) => each.id !== "route")
          .map((each) =>
            each.id === "details"
              ? {
                  ...each,
                  fields: [
                    { id: "serial", label: "Serial", variable: "serial", type: "number", required: true },
                    { id: "colour", label: "Colour", variable: "colour", type: "text", required: true },
                  ],
                }
              : each,
          ),
        {
          id: "route",
          type: "logic",
          title: "Loop",
          body: "",
          rules: [{ when: "true", next: "route2" }],
          default_next: "nowhere",
        },
        {
          id: "route2",
          type: "logic",
          title: "Loop back",
          body: "",
          rules: [{ when: "true", next: "route" }],
          default_next: "clean",
        },
      ],
    });
    const created = await createTree(body);
    expect(created.status).toBe(422);
    const types = problemsOf(created.body).map((problem) => `${problem.loc.slice(1).join(".")}:${problem.type}`);
    expect(types).toEqual(
      expect.arrayContaining([
        "nodes.2.fields.0.type:field_type_mismatch",
        "nodes.2.fields.1.variable:unknown_variable",
        "nodes.7.default_next:unknown_node",
        "nodes.8.rules.0.next:cycle",
      ]),
    );
  });

  it("describes the new node types in the tree format's JSON Schema", async () => {
    const schema = await running.client.call<{ $defs: Record<string, unknown> }>("GET", "/api/v1/schemas/tree.json");
    expect(schema.status).toBe(200);
    expect(Object.keys(schema.body.$defs)).toEqual(
      expect.arrayContaining(["FormNode", "LogicNode", "Variable", "FormField", "LogicRule"]),
    );
  });
});
