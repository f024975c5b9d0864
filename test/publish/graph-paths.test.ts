// The use cases (src/publish) and the CLI (src/cli) reach Graph only through the typed endpoint module
// (src/clients/graph/intune.ts, content.ts): no Graph path is written there. The string and template literals of
// every source file are read with TypeScript's parser, so comments and import specifiers do not count.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { repoRoot } from "../support/paths.js";

/** An absolute Graph path: a resource root of the version root. */
const ROOT_SEGMENT =
  /(?:^|[^\w.])\/(?:deviceAppManagement|deviceManagement|groups|users|devices|servicePrincipals|applications|organization|directoryObjects|me|\$batch)(?=[/?'"`]|$)/;
/** A path built on another: `${app}/assign`, `${base}/categories/$ref`. */
const SUB_SEGMENT =
  /^\/(?:assign|assignments|relationships|updateRelationships|categories|contentVersions|files|renewUpload|commit|managedDevices|\$ref)(?=[/?]|$)/;

/** The Graph paths written in a TypeScript source: `line: text` for each. */
function graphPathsIn(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const report = (node: ts.Node, literal: string) =>
    found.push(`${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${literal}`);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const p = node.parent;
      const specifier =
        ts.isImportDeclaration(p) ||
        ts.isExportDeclaration(p) ||
        ts.isExternalModuleReference(p) ||
        (ts.isCallExpression(p) && p.expression.kind === ts.SyntaxKind.ImportKeyword);
      if (!specifier && ROOT_SEGMENT.test(node.text)) report(node, node.text);
    } else if (ts.isTemplateExpression(node)) {
      const parts = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)];
      if (parts.some((x) => ROOT_SEGMENT.test(x)) || parts.slice(1).some((x) => SUB_SEGMENT.test(x)))
        report(node, node.getText(source));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    // Tests may set a tenant up through Graph directly; the code that ships may not.
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

describe("Graph paths live in the endpoint module only", () => {
  it("finds a planted path at any depth of a template, and ignores comments and import specifiers", () => {
    const planted = [
      `import { x } from "../../core/targeting/relationships.js";`,
      `// GET /deviceAppManagement/mobileApps/{id} is documented in a comment`,
      "const a = await graph.get(`/deviceAppManagement/mobileApps/${id}`);",
      `const b = await graph.listAll("/groups", { query });`,
      "const c = await graph.post(`${app(id)}/assign`, body);",
      `const d = "/deviceManagement/deviceEnrollmentConfigurations";`,
      `const e = "no path here: deviceManagement";`,
    ].join("\n");
    assert.deepEqual(
      graphPathsIn("planted.ts", planted).map((x) => x.split(":")[0]),
      ["3", "4", "5", "6"],
    );
  });

  it("src/publish and src/cli name no Graph path", async () => {
    const root = repoRoot();
    const files = [
      ...(await sourceFiles(join(root, "src", "publish"))),
      ...(await sourceFiles(join(root, "src", "cli"))),
    ];
    assert.ok(files.length > 20, `source files found under ${root}`);
    const offenders: string[] = [];
    for (const f of files)
      for (const hit of graphPathsIn(f, await readFile(f, "utf8"))) offenders.push(`${relative(root, f)}:${hit}`);
    assert.deepEqual(
      offenders,
      [],
      "Call the typed endpoints of src/clients/graph/intune.ts (add one there) instead of writing Graph paths.",
    );
  });
});
